// Compiled under `tsc --strict` in CI against types generated from
// openapi.json: if the spec stops describing these calls, CI fails.
import createClient from "openapi-fetch";
import type { paths, components } from "./schema";

type Problem = components["schemas"]["Problem"];

export async function firstSteps(baseUrl: string): Promise<string> {
  const client = createClient<paths>({ baseUrl });
  const signup = await client.POST("/v1/auth/signup", {
    body: { email: "ada@example.com", password: "correct horse battery", name: "Ada" },
  });
  if (signup.error) {
    const problem: Problem = signup.error;
    throw new Error(`${problem.code}: ${problem.detail}`);
  }
  const headers = { Authorization: `Bearer ${signup.data.access_token}` };
  const workspace = await client.POST("/v1/workspaces", {
    headers: { ...headers, "Idempotency-Key": "first-workspace" },
    body: { name: "Acme Coffee" },
  });
  if (!workspace.data) throw new Error(workspace.error?.detail);
  const invitation = await client.POST("/v1/workspaces/{workspace_id}/invitations", {
    headers,
    params: { path: { workspace_id: workspace.data.id } },
    body: { email: "grace@example.com", role: "community_manager" },
  });
  const members = await client.GET("/v1/workspaces/{workspace_id}/members", {
    headers,
    params: { path: { workspace_id: workspace.data.id }, query: { limit: 50 } },
  });
  const roles = members.data?.data.map((m) => m.role) ?? [];
  return `${workspace.data.name} ${invitation.data?.token ?? ""} ${roles.join(",")}`;
}
