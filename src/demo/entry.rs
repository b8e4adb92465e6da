//! The public rows of a demo listing (`directory_entry` and its `directory_office` rows),
//! written by the load itself. `directory_refresh` would build the same rows from the
//! loaded tables, but at a million listings that second pass costs as much as the load;
//! the generator thread has a core to spare. `tests/api/demo.rs` rebuilds the entries of
//! a seed with `directory_refresh` and checks that nothing changes.

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::macros::format_description;

use super::generate::Taxonomy;
use super::model::DemoListing;
use crate::db::copy::CopyBuffer;
use crate::domain::Money;
use crate::domain::vocab::Vocabulary;

/// The columns [`encode`] writes, in order.
pub const ENTRY_COPY: &str = "copy directory_entry (listing_id, slug, display_name, accepting,
    free_consultation, fee_min_cents, fee_floor_cents, sliding_scale, gender, faith, languages,
    age_groups, communities, session_formats, delivery, states, telehealth_states, has_office,
    modality_ids, specialty_ids, insurer_ids, certified_modality_ids, license_verified,
    offering_kinds, last_confirmed_at, summary, stale, availability_unconfirmed, statement,
    offering_titles, photo) from stdin";
pub const OFFICE_COPY: &str =
    "copy directory_office (listing_id, location, state, position) from stdin";

/// Demo fees are in the listing's default currency.
const CURRENCY: &str = "USD";

/// A timestamp as PostgreSQL writes a `timestamptz` into JSON in a UTC session (the demo's
/// timestamps are whole seconds).
fn json_timestamp(at: OffsetDateTime) -> String {
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]+00:00"
    ))
    .unwrap_or_default()
}

fn slugs<'a>(terms: &'a [(i32, String)], ids: impl Iterator<Item = &'a i32>) -> Vec<&'a str> {
    let mut slugs: Vec<&str> = ids
        .filter_map(|id| terms.iter().find(|(t, _)| t == id).map(|(_, s)| s.as_str()))
        .collect();
    slugs.sort_unstable();
    slugs
}

fn sorted<T: Ord + Clone>(values: impl Iterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = values.collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn numbers(ids: &[i32]) -> Vec<String> {
    ids.iter().map(i32::to_string).collect()
}

/// Appends the listing's entry to `entries` and its offices to `offices`; `confirmed` is
/// its `last_confirmed_at`.
pub fn encode(
    l: &DemoListing,
    (taxonomy, photo): (&Taxonomy, &str),
    confirmed: OffsetDateTime,
    entries: &mut CopyBuffer,
    offices: &mut CopyBuffer,
) {
    let mut by_id: Vec<_> = l.offices.iter().collect();
    by_id.sort_unstable_by_key(|o| o.id);
    let p = &l.profile;
    let states = sorted(
        p.telehealth_states
            .iter()
            .map(String::as_str)
            .chain(by_id.iter().map(|o| o.state.as_str())),
    );
    let modality_ids = sorted(l.modality_ids.iter().copied());
    let specialty_ids = sorted(l.specialties.iter().map(|(id, _)| *id));
    let insurer_ids = sorted(l.insurer_ids.iter().copied());
    let certified = sorted(
        l.certifications
            .iter()
            .filter(|c| c.verified)
            .filter_map(|c| c.modality_id),
    );
    let license_verified = l.licenses.iter().any(|c| c.verified);
    let kinds = sorted(l.offerings.iter().map(|f| f.kind));
    let mut offerings: Vec<_> = l.offerings.iter().collect();
    offerings.sort_unstable_by_key(|f| f.id);
    let titles: Vec<&str> = offerings.iter().map(|f| f.title.as_str()).collect();

    let money = |fee: Option<Money>| -> Value {
        fee.map_or(
            Value::Null,
            |m| json!({"amount_cents": m.amount_cents, "currency": CURRENCY}),
        )
    };
    let cents = |fee: Option<Money>| fee.map(|m| m.amount_cents);
    let summary = json!({
        "id": l.listing_id,
        "slug": l.slug,
        "display_name": p.display_name,
        "pronouns": p.pronouns,
        "credentials": p.credentials,
        "professional_title": p.professional_title,
        "photo_url": Value::Null,
        "accepting": p.accepting,
        "free_consultation": p.free_consultation,
        "fees": {
            "min": money(p.fee_min),
            "max": money(p.fee_max),
            "sliding_scale_min": money(p.sliding_scale_min),
            "insurance_only": p.insurance_only,
        },
        "modalities": slugs(&taxonomy.modalities, l.modality_ids.iter()),
        "top_specialties": slugs(
            &taxonomy.specialties,
            l.specialties.iter().filter(|(_, top)| *top).map(|(id, _)| id),
        ),
        "delivery": p.delivery,
        "session_formats": p.session_formats,
        "languages": p.languages,
        "telehealth_states": p.telehealth_states,
        "offices": by_id
            .iter()
            .map(|o| json!({"city": o.city, "state": o.state, "zip": o.zip}))
            .collect::<Vec<_>>(),
        "license_verified": license_verified,
        "last_confirmed_at": json_timestamp(confirmed),
    });

    entries
        .uuid(l.listing_id)
        .text(&l.slug)
        .text(&p.display_name)
        .text(p.accepting.as_str())
        .boolean(p.free_consultation)
        .opt_display(cents(p.fee_min))
        .opt_display(cents(p.sliding_scale_min.or(p.fee_min)))
        .boolean(p.sliding_scale_min.is_some())
        .opt_text(p.gender.map(Vocabulary::as_str))
        .opt_text(p.faith.map(Vocabulary::as_str))
        .array(&p.languages)
        .array(&Vocabulary::texts(&p.age_groups))
        .array(&Vocabulary::texts(&p.communities))
        .array(&Vocabulary::texts(&p.session_formats))
        .array(&Vocabulary::texts(&p.delivery))
        .array(&states)
        .array(&p.telehealth_states)
        .boolean(!by_id.is_empty())
        .array(&numbers(&modality_ids))
        .array(&numbers(&specialty_ids))
        .array(&numbers(&insurer_ids))
        .array(&numbers(&certified))
        .boolean(license_verified)
        .array(&kinds)
        .display(json_timestamp(confirmed))
        .text(&summary.to_string())
        .boolean(false)
        .boolean(false)
        .text(p.statement.as_deref().unwrap_or_default())
        .text(&titles.join(" "))
        .text(photo)
        .end_row();

    for (position, o) in by_id.into_iter().enumerate() {
        offices
            .uuid(l.listing_id)
            .display(format_args!("({:.6},{:.6})", o.longitude, o.latitude))
            .text(&o.state)
            .display(position)
            .end_row();
    }
}
