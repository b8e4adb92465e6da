// A small typed module a frontend can copy: search with facets, profiles, joining, signing
// in (with a second factor), editing the listing with its ETag, and statistics. Typed by `api.d.ts`,
// which `openapi-typescript` generates from `openapi/openapi.json`; plain `fetch`.
// `example.ts` shows it in use, and `run.ts` is what CI runs against the service.

import type { components, operations } from "./api";

export type Schemas = components["schemas"];
type SearchQuery = NonNullable<operations["search_therapists"]["parameters"]["query"]>;
type SearchPage = operations["search_therapists"]["responses"][200]["content"]["application/json"];
type Problem = Schemas["Problem"];
type DayRange = NonNullable<operations["get_my_stats"]["parameters"]["query"]>;

let base = "http://localhost:8080";

/** Where the API is (the scheme, host and port; no trailing slash). */
export function setBase(url: string): void {
  base = url.replace(/\/$/, "");
}

/** Every error is problem+json with a stable `code`; this keeps it for the caller. */
export class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.code}: ${problem.detail}`);
  }
}

export async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(`${base}${path}`, init);
  if (!response.ok) {
    throw new ApiProblem((await response.json()) as Problem);
  }
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** Repeatable parameters are repeated: `modality=cbt&modality=emdr`. */
function queryString(query: SearchQuery): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    for (const one of Array.isArray(value) ? value : [value]) {
      if (one !== undefined) params.append(name, String(one));
    }
  }
  return params.toString();
}

export async function search(query: SearchQuery): Promise<SearchPage> {
  return call<SearchPage>(`/v1/therapists?${queryString(query)}`);
}

export async function signUp(
  body: Schemas["SignupRequest"],
): Promise<operations["signup"]["responses"][202]["content"]["application/json"]> {
  return call("/v1/auth/signup", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/**
 * Signs in. With a second factor on, the password alone answers 401 `mfa_required` with
 * an `mfa_token`: `code()` is then asked for the authenticator's code (or a recovery code).
 */
export async function logIn(
  body: Schemas["LoginRequest"],
  code?: () => Promise<string>,
): Promise<Schemas["TokenPair"]> {
  try {
    return await call<Schemas["TokenPair"]>("/v1/auth/login", json("POST", body));
  } catch (error) {
    if (!(error instanceof ApiProblem) || error.problem.code !== "mfa_required" || !code) throw error;
    const second: Schemas["MfaLoginRequest"] = { mfa_token: error.problem.mfa_token ?? "", code: await code() };
    return call<Schemas["TokenPair"]>("/v1/auth/login/mfa", json("POST", second));
  }
}

/** A public profile by slug or id. */
export async function profile(idOrSlug: string): Promise<Schemas["PublicProfile"]> {
  return call(`/v1/therapists/${encodeURIComponent(idOrSlug)}`);
}

/** The therapist's listing and the `ETag` to send back with the next change. */
export interface Versioned<T> {
  value: T;
  etag: string;
}

async function versioned<T>(path: string, init: RequestInit): Promise<Versioned<T>> {
  const response = await fetch(`${base}${path}`, init);
  if (!response.ok) throw new ApiProblem((await response.json()) as Problem);
  // Every read and write of the listing carries its tag. Never "*" in its place: that
  // would overwrite whatever is there, switching the lock off silently.
  const etag = response.headers.get("etag");
  if (etag === null) throw new Error(`${init.method ?? "GET"} ${path} answered without an ETag`);
  return { value: (response.status === 204 ? undefined : await response.json()) as T, etag };
}

function json(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}

export async function myListing(accessToken: string): Promise<Versioned<Schemas["MyListing"]>> {
  return versioned("/v1/me/listing", { headers: { authorization: `Bearer ${accessToken}` } });
}

/** Patches the listing if it is still at `etag` (412 `precondition_failed` otherwise). */
export async function updateListing(
  accessToken: string,
  etag: string,
  patch: Schemas["ListingBodyPatch"],
): Promise<Versioned<Schemas["MyListing"]>> {
  const headers = { authorization: `Bearer ${accessToken}`, "if-match": etag };
  return versioned("/v1/me/listing", json("PATCH", patch, headers));
}

/** Adds an office; the answer carries the listing's new tag, so no re-read is needed. */
export async function addOffice(
  accessToken: string,
  office: Schemas["OfficeBody"],
): Promise<Versioned<Schemas["PublicOffice"]>> {
  return versioned("/v1/me/listing/offices", json("POST", office, { authorization: `Bearer ${accessToken}` }));
}

/** `from` and `to` (YYYY-MM-DD, UTC days, both included) as a query string. */
function dayRange(range: DayRange): string {
  const params = new URLSearchParams();
  if (range.from) params.set("from", range.from);
  if (range.to) params.set("to", range.to);
  return params.toString();
}

/** The listing's profile views, search appearances and inquiries per day, with totals
 * (at most 366 days; the last 30 by default). */
export async function myStats(accessToken: string, range: DayRange = {}): Promise<Schemas["ListingStats"]> {
  return call(`/v1/me/stats?${dayRange(range)}`, { headers: { authorization: `Bearer ${accessToken}` } });
}

/** For admins: searches per day, and the texts, places and filters that found little
 * (each shown only for days on which five client networks sent it). */
export async function searchInsights(accessToken: string, range: DayRange = {}): Promise<Schemas["SearchInsights"]> {
  return call(`/v1/admin/insights/searches?${dayRange(range)}`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
}
