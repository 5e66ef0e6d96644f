import { LOOPBACK_HOSTS, parseUrl, type Rule } from "./view.js";

/** `service-insecure-url`: the admin client's secret and the SMTP password travel to service.url, so https (http only on loopback). */
export const serviceUrlIsHttps: Rule = ({ service }) => {
  const url = parseUrl(service?.url);
  if (!url || url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname)))
    return [];
  return [
    {
      severity: "error",
      code: "service-insecure-url",
      path: "/service/url",
      message: `service.url must use https (http is allowed only for 127.0.0.1, [::1] and localhost), not ${url.protocol.replace(/:$/, "")}`,
      hint: "The admin client's secret and the SMTP password travel to this URL: use the service's https URL.",
    },
  ];
};
