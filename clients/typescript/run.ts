// What CI runs against a live service (`.ci/contract`), compiled with `tsc --strict`:
//
//   node run.js BASE_URL EMAIL PASSWORD ADMIN_EMAIL ADMIN_CODE
//
// with a verified therapist's sign-in (the same password for both) and an admin's current
// authenticator code. It searches with facets, opens a profile, signs in, edits the
// listing through its ETags (a part write's tag is accepted by the next change, a stale
// tag is refused), reads the listing's statistics, and signs the admin in through the
// second factor to read the admin summary and the search insights. Any failure ends it with a non-zero exit.

import type { components } from "./api";
import {
  ApiProblem, addOffice, call, logIn, myListing, myStats, profile, search, searchInsights, setBase, updateListing,
} from "./directory.js";

declare const process: { argv: string[]; exitCode?: number };

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`expected ${what}`);
}

async function main(): Promise<void> {
  const [baseUrl, email, password, adminEmail, adminCode] = process.argv.slice(2);
  if (!baseUrl || !email || !password || !adminEmail || !adminCode) {
    throw new Error("usage: node run.js BASE_URL EMAIL PASSWORD ADMIN_EMAIL ADMIN_CODE");
  }
  setBase(baseUrl);

  const page = await search({ facets: "modality,delivery", limit: 5 });
  expect(page.items.length > 0 && page.total > 0, "demo listings in search");
  expect((page.facets.modality ?? []).length > 0, "modality facet counts");
  const first = page.items[0];
  expect(first !== undefined, "a first item");
  if (first === undefined) return;
  const shown = await profile(first.slug);
  expect(shown.slug === first.slug && typeof shown.updated_at === "string", "the item's profile");

  const tokens = await logIn({ email, password }, async () => {
    throw new Error("this account has no second factor");
  });
  const read = await myListing(tokens.access_token);
  const office = await addOffice(tokens.access_token, {
    address_line1: "1 Fayetteville St", city: "Raleigh", state: "NC", zip: "27601",
  });
  expect(office.etag !== read.etag, "a new tag after a part write");
  const edited = await updateListing(tokens.access_token, office.etag, { pronouns: "they/them" });
  expect(edited.value.pronouns === "they/them", "the change applied with the part's tag");
  try {
    await updateListing(tokens.access_token, read.etag, { pronouns: "she/her" });
    throw new Error("a stale tag was accepted");
  } catch (error) {
    expect(error instanceof ApiProblem && error.problem.code === "precondition_failed", "412 for a stale tag");
  }
  const stats = await myStats(tokens.access_token);
  expect(stats.days.length === 30 && stats.totals.profile_views >= 0, "thirty days of statistics");
  const week = await myStats(tokens.access_token, { from: stats.days[23]?.date, to: stats.to });
  expect(week.days.length === 7, "a week of statistics");
  let asked = false;
  const admin = await logIn({ email: adminEmail, password }, async () => {
    asked = true;
    return adminCode;
  });
  expect(asked, "the admin's second factor asked for");
  const summary = await call<components["schemas"]["AdminSummary"]>("/v1/admin/summary", {
    headers: { authorization: `Bearer ${admin.access_token}` },
  });
  expect(summary.pending_review >= 0, "the admin summary");
  const insights = await searchInsights(admin.access_token);
  expect(insights.days.length === 30 && insights.min_networks === 5, "the search insights");
  console.log(`typescript example: ${page.total} listings, profile ${shown.slug}, listing v${edited.value.version}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
