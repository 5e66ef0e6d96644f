import { parseUrl, type Rule, type RuleProblem, text } from "./view.js";

/** `preset-mismatch`: a setting that contradicts the preset's fixed facts (host, protocol, port, issuer). */
export const presetMatchesFacts: Rule = ({ preset, smtp, auth, oauth }) => {
  if (!preset) return [];
  const problems: RuleProblem[] = [];
  const mismatch = (path: string, message: string, hint: string) =>
    problems.push({ severity: "error", code: "preset-mismatch", path, message, hint });
  const host = text(smtp?.host);
  if (host !== undefined && !preset.hosts.includes(host.toLowerCase())) {
    mismatch(
      "/smtp/host",
      `preset ${preset.name} sends through ${preset.hosts.join(" or ")}, not ${host}`,
      `Remove smtp.host or the preset.`,
    );
  }
  const protocol = text(smtp?.protocol);
  if (protocol !== undefined && !(preset.allowedProtocols as string[]).includes(protocol)) {
    mismatch(
      "/smtp/protocol",
      `${preset.title} does not accept protocol ${protocol}`,
      `Use ${preset.allowedProtocols.join(" or ")}.`,
    );
  }
  const port = smtp?.port;
  if (typeof port === "number" && !preset.allowedPorts.includes(port)) {
    mismatch(
      "/smtp/port",
      `${preset.title} does not accept port ${port}`,
      `Use ${preset.allowedPorts.join(" or ")}, or omit the port.`,
    );
  }
  const issuer = parseUrl(auth?.issuer);
  if (oauth && issuer && !preset.issuerHosts.includes(issuer.hostname)) {
    mismatch(
      "/auth/issuer",
      `preset ${preset.name} signs in at ${preset.issuer}, not ${issuer.origin}`,
      "Remove auth.issuer or the preset.",
    );
  }
  return problems;
};
