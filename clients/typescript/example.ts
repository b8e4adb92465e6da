// A frontend's first steps against the directory API, typed by `api.d.ts`, which
// `openapi-typescript` generates from `openapi/openapi.json`:
//
//   npx openapi-typescript ../../openapi/openapi.json -o api.d.ts
//   npx tsc --strict --noEmit --target es2022 --module es2022 --moduleResolution bundler --lib es2022,dom example.ts
//
// CI (`.ci/contract`) regenerates the types, checks they equal the committed ones and
// compiles this file with `--strict`, so a change to the document that breaks a client
// breaks the build. It uses plain `fetch`; any generated client works the same way.

import type { operations } from "./api";
import { addOffice, logIn, myListing, myStats, search, signUp, updateListing, call } from "./directory.js";

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
  // (After the emailed link is used: `POST /v1/auth/verify-email`.)
  const tokens = await logIn(
    { email: "new.therapist@example.com", password: "a long and private passphrase" },
    async () => prompt("The code your authenticator shows") ?? "",
  );
  const current = await myListing(tokens.access_token);
  const office = await addOffice(tokens.access_token, {
    address_line1: "1 Congress Ave", city: "Austin", state: "TX", zip: "78701",
  });
  // The office's answer carries the listing's new tag: no re-read before the next change.
  const listing = await updateListing(tokens.access_token, office.etag, {
    display_name: "New Therapist, LPC",
    accepting: "waitlist",
  });
  console.log(current.value.version, listing.value.status, listing.value.slug);

  // What the listing did: a row per day (zeros included) and the totals, for a chart.
  const stats = await myStats(tokens.access_token, { from: "2026-11-01", to: "2026-11-30" });
  const chart = stats.days.map((day) => [day.date, day.profile_views, day.search_appearances, day.inquiries]);
  console.log(chart, `${stats.totals.profile_views} views, ${stats.totals.inquiries} inquiries`);
}
