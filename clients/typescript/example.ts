// A frontend's first steps against the directory API, typed by `api.d.ts`, which
// `openapi-typescript` generates from `openapi/openapi.json`:
//
//   npx openapi-typescript ../../openapi/openapi.json -o api.d.ts
//   npx tsc --strict --noEmit --target es2022 --module es2022 --moduleResolution bundler --lib es2022,dom example.ts
//
// CI (`.ci/contract`) regenerates the types, checks they equal the committed ones and
// compiles this file with `--strict`, so a change to the document that breaks a client
// breaks the build. It uses plain `fetch`; any generated client works the same way.

import type { components, operations } from "./api";

type Schemas = components["schemas"];
type SearchQuery = NonNullable<operations["search_therapists"]["parameters"]["query"]>;
type SearchPage = operations["search_therapists"]["responses"][200]["content"]["application/json"];
type Problem = Schemas["Problem"];

const base = "http://localhost:8080";

/** Every error is problem+json with a stable `code`; this keeps it for the caller. */
class ApiProblem extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.code}: ${problem.detail}`);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
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

export async function logIn(body: Schemas["LoginRequest"]): Promise<Schemas["TokenPair"]> {
  return call("/v1/auth/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

/** Reads the listing, then patches it with the ETag it came with (412 if it changed since). */
export async function updateListing(
  accessToken: string,
  patch: Schemas["ListingBodyPatch"],
): Promise<Schemas["MyListing"]> {
  const current = await fetch(`${base}/v1/me/listing`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  // Never "*": that would overwrite whatever is there, switching the lock off silently.
  const etag = current.headers.get("etag");
  if (etag === null) throw new Error("GET /v1/me/listing answered without an ETag");
  return call("/v1/me/listing", {
    method: "PATCH",
    headers: {
      authorization: `Bearer ${accessToken}`,
      "content-type": "application/merge-patch+json",
      "if-match": etag,
    },
    body: JSON.stringify(patch),
  });
}

export async function journey(): Promise<void> {
  const page = await search({
    near: "27601",
    radius_km: 40,
    modality: ["imago", "cbt"],
    delivery: ["video"],
    accepting: true,
    facets: "modality,delivery",
    limit: 20,
  });
  for (const listing of page.items) {
    const fee = listing.fees.min ? `${listing.fees.min.amount_cents / 100} ${listing.fees.min.currency}` : "—";
    const distance = listing.distance_km == null ? "online" : `${listing.distance_km.toFixed(1)} km`;
    console.log(listing.display_name, listing.accepting, fee, distance);
  }
  for (const count of page.facets.modality ?? []) {
    console.log(count.slug, count.count);
  }

  // One box: `q` read as people write it; `interpreted` lists what became filters and a
  // place, for removable chips.
  const sentence = await search({ q: "emdr in austin that takes aetna" });
  if (sentence.interpreted) {
    const chips = [
      ...(sentence.interpreted.near ? [`near ${sentence.interpreted.near}`] : []),
      ...(sentence.interpreted.filters.insurer ?? []).map((slug) => `insurer ${slug}`),
      ...(sentence.interpreted.filters.language ?? []).map((code) => `language ${code}`),
    ];
    console.log(sentence.interpreted.text, chips);
  }

  // A place name in `near`; `place` says what it resolved to. A map view searches a box
  // and pins each item at `latitude`/`longitude` (null for online-only listings).
  const austin = await search({ near: "Austin, TX", accepting: true });
  if (austin.place?.kind === "city") {
    console.log(`near ${austin.place.name} (${austin.place.latitude}, ${austin.place.longitude})`);
  }
  const view = await search({ bbox: "-97.9,30.1,-97.5,30.5", facets: "modality" });
  const pins = view.items
    .filter((item) => item.latitude !== null && item.longitude !== null)
    .map((item) => ({ slug: item.slug, at: [item.latitude, item.longitude], updated: item.updated_at }));
  console.log(view.total, pins.length);

  // Typeahead: each suggestion says which parameter its `value` goes to.
  const typed = await call<operations["suggest"]["responses"][200]["content"]["application/json"]>(
    `/v1/suggest?${new URLSearchParams({ q: "aus", limit: "8" })}`,
  );
  for (const s of typed.items) {
    const target = s.kind === "place" ? `near=${s.value}` : s.kind === "therapist" ? `/v1/therapists/${s.value}` : `${s.kind}=${s.value}`;
    console.log(s.label, s.count ?? "", target);
  }

  await signUp({
    email: "new.therapist@example.com",
    password: "a long and private passphrase",
    full_name: "New Therapist",
    accept_terms: true,
  });
  const tokens = await logIn({ email: "new.therapist@example.com", password: "a long and private passphrase" });
  const listing = await updateListing(tokens.access_token, {
    display_name: "New Therapist, LPC",
    accepting: "waitlist",
    delivery: ["video", "in_person"],
  });
  console.log(listing.status, listing.slug);
}
