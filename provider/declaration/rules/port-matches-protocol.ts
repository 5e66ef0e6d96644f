import { type Rule, text } from "./view.js";

/** `port-protocol-mismatch` (warning): 465 speaks implicit TLS and 587 STARTTLS, by convention. */
export const portMatchesProtocol: Rule = ({ smtp, preset }) => {
  const protocol = text(smtp?.protocol) ?? preset?.smtp.protocol;
  const port = smtp?.port;
  const unusual = (protocol === "tls" && port === 587) || (protocol === "starttls" && port === 465);
  return unusual
    ? [
        {
          severity: "warning",
          code: "port-protocol-mismatch",
          path: "/smtp/port",
          message: `port ${String(port)} usually speaks ${protocol === "tls" ? "STARTTLS" : "implicit TLS"}, but protocol is ${protocol}`,
          hint:
            protocol === "tls"
              ? "Use port 465 for tls, or protocol: starttls."
              : "Use port 587 for starttls, or protocol: tls.",
        },
      ]
    : [];
};
