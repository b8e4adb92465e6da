//! The profile's columns on `listing`: the one place that names them, for reading
//! ([`PROFILE_COLUMNS`]), writing ([`push_profile`]) and bulk loading ([`copy_profile`]); and the listing's parts as
//! its owner or the public reads them ([`parts_json`]).

use sqlx::{Postgres, QueryBuilder};

use crate::db::copy::CopyBuffer;
use crate::domain::Money;
use crate::domain::vocab::Vocabulary;
use crate::listings::model::ListingProfile;

/// The select list of [`ListingProfile`] over `listing l`, each column under its field's
/// name (fees are whole cents, taxonomy terms their slugs).
pub const PROFILE_COLUMNS: &str = "l.display_name, l.pronouns, l.credentials,
    l.professional_title, l.statement, l.website_url, l.phone,
    l.contact_email::text as contact_email, l.gender, l.languages, l.age_groups, l.communities,
    l.faith, l.session_formats, l.delivery, l.accepting, l.free_consultation,
    l.fee_min_cents as fee_min, l.fee_max_cents as fee_max,
    l.sliding_scale_min_cents as sliding_scale_min, l.insurance_only, l.payment_methods,
    l.hsa_fsa, l.npi::text as npi, l.taxonomy_code, l.years_in_practice, l.telehealth_states,
    array(select m.slug from listing_modality lm join modality m on m.id = lm.modality_id
          where lm.listing_id = l.id order by m.slug) as modalities,
    array(select s.slug from listing_specialty ls join specialty s on s.id = ls.specialty_id
          where ls.listing_id = l.id order by s.slug) as specialties,
    array(select s.slug from listing_specialty ls join specialty s on s.id = ls.specialty_id
          where ls.listing_id = l.id and ls.is_top order by s.slug) as top_specialties,
    array(select i.slug from listing_insurer li join insurer i on i.id = li.insurer_id
          where li.listing_id = l.id order by i.slug) as insurers";

/// `, column = $n` for every column of the profile on `listing` (its taxonomy terms are
/// rows of their own: `write_terms`).
pub fn push_profile(update: &mut QueryBuilder<Postgres>, p: &ListingProfile) {
    let mut set = update.separated(", ");
    set.push_unseparated(", ");
    set.push("display_name = ")
        .push_bind_unseparated(&p.display_name);
    set.push("pronouns = ").push_bind_unseparated(&p.pronouns);
    set.push("credentials = ")
        .push_bind_unseparated(&p.credentials);
    set.push("professional_title = ")
        .push_bind_unseparated(&p.professional_title);
    set.push("statement = ").push_bind_unseparated(&p.statement);
    set.push("website_url = ")
        .push_bind_unseparated(&p.website_url);
    set.push("phone = ").push_bind_unseparated(&p.phone);
    set.push("contact_email = ")
        .push_bind_unseparated(&p.contact_email);
    set.push("gender = ").push_bind_unseparated(p.gender);
    set.push("languages = ").push_bind_unseparated(&p.languages);
    set.push("age_groups = ")
        .push_bind_unseparated(&p.age_groups);
    set.push("communities = ")
        .push_bind_unseparated(&p.communities);
    set.push("faith = ").push_bind_unseparated(p.faith);
    set.push("session_formats = ")
        .push_bind_unseparated(&p.session_formats);
    set.push("delivery = ").push_bind_unseparated(&p.delivery);
    set.push("accepting = ").push_bind_unseparated(p.accepting);
    set.push("free_consultation = ")
        .push_bind_unseparated(p.free_consultation);
    set.push("fee_min_cents = ")
        .push_bind_unseparated(p.fee_min);
    set.push("fee_max_cents = ")
        .push_bind_unseparated(p.fee_max);
    set.push("sliding_scale_min_cents = ")
        .push_bind_unseparated(p.sliding_scale_min);
    set.push("insurance_only = ")
        .push_bind_unseparated(p.insurance_only);
    set.push("payment_methods = ")
        .push_bind_unseparated(&p.payment_methods);
    set.push("hsa_fsa = ").push_bind_unseparated(p.hsa_fsa);
    set.push("npi = ").push_bind_unseparated(&p.npi);
    set.push("taxonomy_code = ")
        .push_bind_unseparated(&p.taxonomy_code);
    set.push("years_in_practice = ")
        .push_bind_unseparated(p.years_in_practice);
    set.push("telehealth_states = ")
        .push_bind_unseparated(&p.telehealth_states);
}

/// Who reads a listing's parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Only verified certifications and unrejected licenses, without the admin's notes,
    /// in display order.
    Public,
    /// Every part with its verification note, in the order it was added.
    Owner,
}

/// The listing's offices, licenses, certifications and offerings as JSON arrays (`[]` when
/// none), as `reader` may see them, for a query over `listing l`.
pub fn parts_json(reader: Reader) -> String {
    let (
        note,
        licenses_where,
        licenses_order,
        certifications_where,
        certifications_order,
        offerings,
    ) = match reader {
        Reader::Public => (
            "",
            "c.verification_status <> 'rejected'",
            "c.state, c.license_type",
            "c.verification_status = 'verified'",
            "c.name",
            "f.starts_on nulls last, f.title",
        ),
        Reader::Owner => (
            ", 'verification_note', c.verification_note",
            "true",
            "c.created_at, c.id",
            "true",
            "c.created_at, c.id",
            "f.created_at, f.id",
        ),
    };
    format!(
        "coalesce((select json_agg(json_build_object(
            'id', o.id, 'label', o.label, 'address_line1', o.address_line1,
            'address_line2', o.address_line2, 'city', o.city, 'state', o.state, 'zip', o.zip,
            'latitude', o.latitude, 'longitude', o.longitude,
            'wheelchair_accessible', o.wheelchair_accessible) order by o.created_at, o.id)
        from office o where o.listing_id = l.id), '[]') as offices,
    coalesce((select json_agg(json_build_object(
            'id', c.id, 'type', c.license_type, 'number', c.license_number, 'state', c.state,
            'expires_on', c.expires_on, 'verification_status', c.verification_status{note})
            order by {licenses_order})
        from license c where c.listing_id = l.id and {licenses_where}), '[]') as licenses,
    coalesce((select json_agg(json_build_object(
            'id', c.id, 'name', c.name, 'issuer', c.issuer, 'modality', m.slug, 'level', c.level,
            'credential_id', c.credential_id, 'issued_on', c.issued_on, 'expires_on', c.expires_on,
            'verification_status', c.verification_status{note}) order by {certifications_order})
        from certification c left join modality m on m.id = c.modality_id
        where c.listing_id = l.id and {certifications_where}), '[]') as certifications,
    coalesce((select json_agg(json_build_object(
            'id', f.id, 'kind', f.kind, 'title', f.title, 'description', f.description,
            'format', f.format, 'price', json_build_object('amount_cents', f.price_cents, 'currency', 'USD'),
            'duration_minutes', f.duration_minutes,
            'starts_on', f.starts_on, 'ends_on', f.ends_on, 'location', f.location) order by {offerings})
        from offering f where f.listing_id = l.id), '[]') as offerings"
    )
}

/// The profile's columns on `listing` in the order [`copy_profile`] writes them.
pub const PROFILE_COPY_COLUMNS: &str = "display_name, pronouns, credentials, professional_title,
    statement, website_url, phone, contact_email, gender, languages, age_groups,
    communities, faith, session_formats, delivery, accepting, free_consultation, fee_min_cents,
    fee_max_cents, sliding_scale_min_cents, insurance_only, payment_methods, hsa_fsa, npi,
    taxonomy_code, years_in_practice, telehealth_states";

/// Appends the profile's columns ([`PROFILE_COPY_COLUMNS`]) to a COPY row, for bulk loads.
pub fn copy_profile(row: &mut CopyBuffer, p: &ListingProfile) {
    let cents = |m: Option<Money>| m.map(|m| m.amount_cents);
    row.text(&p.display_name)
        .opt_text(p.pronouns.as_deref())
        .opt_text(p.credentials.as_deref())
        .opt_text(p.professional_title.as_deref())
        .opt_text(p.statement.as_deref())
        .opt_text(p.website_url.as_deref())
        .opt_text(p.phone.as_deref())
        .opt_text(p.contact_email.as_deref())
        .opt_text(p.gender.map(Vocabulary::as_str))
        .array(&p.languages)
        .array(&Vocabulary::texts(&p.age_groups))
        .array(&Vocabulary::texts(&p.communities))
        .opt_text(p.faith.map(Vocabulary::as_str))
        .array(&Vocabulary::texts(&p.session_formats))
        .array(&Vocabulary::texts(&p.delivery))
        .text(p.accepting.as_str())
        .boolean(p.free_consultation)
        .opt_display(cents(p.fee_min))
        .opt_display(cents(p.fee_max))
        .opt_display(cents(p.sliding_scale_min))
        .boolean(p.insurance_only)
        .array(&Vocabulary::texts(&p.payment_methods))
        .boolean(p.hsa_fsa)
        .opt_text(p.npi.as_deref())
        .opt_text(p.taxonomy_code.as_deref())
        .opt_display(p.years_in_practice)
        .array(&p.telehealth_states);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &str) -> Vec<String> {
        list.split(',').map(|c| c.trim().to_owned()).collect()
    }

    #[test]
    fn reading_writing_and_loading_name_the_same_columns() {
        let mut update = QueryBuilder::<Postgres>::new("update listing set version = 1");
        push_profile(&mut update, &ListingProfile::default());
        let sql = update.sql();
        let written: Vec<String> = sql
            .as_str()
            .split(", ")
            .skip(1)
            .map(|set| set.split(" = ").next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(written, words(PROFILE_COPY_COLUMNS));

        let mut copied = CopyBuffer::with_capacity(256);
        copy_profile(&mut copied, &ListingProfile::default());
        let fields = String::from_utf8(copied.bytes).unwrap();
        assert_eq!(fields.split('\t').count(), written.len());

        // Every field of the profile is read, under its own name.
        let read: Vec<String> = words(&PROFILE_COLUMNS.replace('\n', " "))
            .iter()
            .filter_map(|c| c.split_whitespace().last().map(str::to_owned))
            .map(|c| c.trim_start_matches("l.").to_owned())
            .collect();
        let fields = serde_json::to_value(ListingProfile::default()).unwrap();
        let mut named: Vec<&String> = fields.as_object().unwrap().keys().collect();
        let mut read_sorted: Vec<&String> = read.iter().collect();
        named.sort();
        read_sorted.sort();
        assert_eq!(read_sorted, named);
    }
}
