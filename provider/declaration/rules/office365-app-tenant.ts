import { parseUrl, type Rule, text } from "./view.js";

/**
 * `office365-app-tenant`: Microsoft issues app tokens only at a tenant's own token endpoint; the
 * multi-tenant issuers (common, organizations, consumers) do not.
 */
export const office365AppTenant: Rule = ({ vendor, auth }) => {
  if (vendor?.name !== "office365" || auth?.flow !== "client-credentials") return [];
  const multiTenant = vendor.multiTenantIssuers ?? [];
  const tenantOf = (value: unknown) => parseUrl(value)?.pathname.split("/")[1]?.toLowerCase();
  for (const field of ["issuer", "tokenEndpoint"] as const) {
    const tenant = tenantOf(auth[field]);
    if (tenant !== undefined && multiTenant.includes(tenant)) {
      return [
        {
          severity: "error",
          code: "office365-app-tenant",
          path: `/auth/${field}`,
          message: `auth.${field} names the multi-tenant "${tenant}", which issues no app tokens`,
          hint: "Use the tenant's own issuer (https://login.microsoftonline.com/TENANT_ID/v2.0), or remove it and declare auth.tenantId.",
        },
      ];
    }
  }
  if (text(auth.tenantId) || auth.issuer !== undefined || auth.tokenEndpoint !== undefined) return [];
  return [
    {
      severity: "error",
      code: "office365-app-tenant",
      path: "/auth",
      message: "Office365 client credentials need the tenant: auth.tenantId or a tenant-specific auth.issuer",
      hint: "Add auth.tenantId: the Directory (tenant) ID of the app registration.",
    },
  ];
};
