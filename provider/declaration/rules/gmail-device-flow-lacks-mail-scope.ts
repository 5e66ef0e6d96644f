import type { Rule } from "./view.js";

/** `gmail-device-flow`: Google's device flow does not allow the mail scope. */
export const gmailDeviceFlowLacksMailScope: Rule = ({ vendor, oauth, auth }) =>
  vendor?.name === "gmail" && oauth && auth?.flow === "device"
    ? [
        {
          severity: "error",
          code: "gmail-device-flow",
          path: "/auth/flow",
          message: "Google's device flow does not allow the mail scope (https://mail.google.com/)",
          hint: "Use flow: loopback with a Desktop app client.",
        },
      ]
    : [];
