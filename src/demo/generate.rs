//! Deterministic, realistic demo listings. Each listing is drawn from an RNG seeded by
//! (seed, index), so any listing can be regenerated alone and the same seed always gives
//! the same directory.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use super::model::{DemoCertification, DemoLicense, DemoListing, DemoOffering, DemoOffice};
use super::words::*;
use crate::domain::Money;
use crate::domain::slugify;
use crate::domain::vocab::{
    Accepting, AgeGroup, Community, Delivery, Faith, Gender, PaymentMethod, SessionFormat,
};
use crate::domain::zip::ZipInfo;
use crate::listings::model::ListingProfile;

/// The taxonomy as stored (ids by slug), read once before generating.
pub struct Taxonomy {
    pub modalities: Vec<(i32, String)>,
    pub specialties: Vec<(i32, String)>,
    pub insurers: Vec<(i32, String)>,
}

/// Real US ZIP codes to place offices in, grouped by their three-digit area.
pub struct Places {
    zips: Vec<&'static ZipInfo>,
    by_area: HashMap<&'static str, Vec<&'static ZipInfo>>,
}

impl Places {
    /// Standard (street-address) ZIP codes in US states and territories.
    pub fn load() -> Self {
        let zips: Vec<&'static ZipInfo> = crate::domain::zip::all()
            .into_iter()
            .filter(|z| z.kind == "STANDARD" && crate::domain::UsState::parse(&z.state).is_ok())
            .collect();
        let mut by_area: HashMap<&'static str, Vec<&'static ZipInfo>> = HashMap::new();
        for z in &zips {
            by_area.entry(&z.zip[..3]).or_default().push(z);
        }
        Places { zips, by_area }
    }
}

fn seeded(seed: u64, index: u64) -> StdRng {
    StdRng::seed_from_u64(
        seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

/// A time-ordered id, deterministic for (seed, index, part).
fn uuid_for(rng: &mut StdRng, base_ms: u64, index: u64) -> Uuid {
    let bytes: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(base_ms + index, &bytes).into_uuid()
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    // Every list passed here is a non-empty constant.
    &items[rng.random_range(0..items.len())]
}

fn npi(rng: &mut StdRng) -> String {
    let first_nine: String = std::iter::once(rng.random_range(1..=2u8))
        .chain((0..8).map(|_| rng.random_range(0..=9u8)))
        .map(|d| char::from(b'0' + d))
        .collect();
    let check = crate::domain::npi_check_digit(&first_nine);
    format!("{first_nine}{check}")
}

fn date(rng: &mut StdRng, from_year: i32, to_year: i32) -> String {
    format!(
        "{}-{:02}-{:02}",
        rng.random_range(from_year..=to_year),
        rng.random_range(1..=12),
        rng.random_range(1..=28)
    )
}

fn some_of<T: Copy>(rng: &mut StdRng, items: &[T], min: usize, max: usize) -> Vec<T> {
    let n = rng.random_range(min..=max.min(items.len()));
    items.choose_multiple(rng, n).copied().collect()
}

/// Generates listing `index` of the demo set `seed`.
pub fn listing(
    seed: u64,
    index: u64,
    base_ms: u64,
    taxonomy: &Taxonomy,
    places: &Places,
) -> DemoListing {
    let zips = places.zips.as_slice();
    let mut rng = seeded(seed, index);
    let first = *pick(&mut rng, FIRST_NAMES);
    let last = *pick(&mut rng, LAST_NAMES);
    let (credentials, title, taxonomy_code, license_type) = *pick(&mut rng, CREDENTIALS);
    let display_name = format!("{first} {last}");
    let slug = format!("{}-s{seed}-{index:x}", slugify(&display_name));

    let modality_ids: Vec<(i32, String)> = {
        let n = rng.random_range(1..=4);
        let mut chosen: Vec<(i32, String)> = taxonomy
            .modalities
            .choose_multiple(&mut rng, n)
            .cloned()
            .collect();
        // Couples-focused practices are common; make Imago visible in a demo.
        if rng.random_bool(0.06)
            && !chosen.iter().any(|(_, s)| s == "imago")
            && let Some(imago) = taxonomy.modalities.iter().find(|(_, s)| s == "imago")
        {
            chosen.push(imago.clone());
        }
        chosen
    };
    let specialties: Vec<(i32, String)> = {
        let n = rng.random_range(2..=6);
        taxonomy
            .specialties
            .choose_multiple(&mut rng, n)
            .cloned()
            .collect()
    };
    let top_count = rng.random_range(1..=3.min(specialties.len()));
    let specialty_refs: Vec<(i32, bool)> = specialties
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i < top_count))
        .collect();
    let insurer_ids: Vec<i32> = if rng.random_bool(0.55) {
        let ids: Vec<i32> = taxonomy.insurers.iter().map(|(id, _)| *id).collect();
        some_of(&mut rng, &ids, 1, 6)
    } else {
        Vec::new()
    };

    let online_only = rng.random_bool(0.2);
    let office_count = if online_only {
        0
    } else if rng.random_bool(0.15) {
        2
    } else {
        1
    };
    let home = *pick(&mut rng, zips);
    let mut offices = Vec::with_capacity(office_count);
    for n in 0..office_count {
        // A second office is usually nearby: another ZIP in the same three-digit area.
        let zip = if n == 0 {
            home
        } else {
            places
                .by_area
                .get(&home.zip[..3])
                .map_or(home, |nearby| *pick(&mut rng, nearby))
        };
        offices.push(DemoOffice {
            id: uuid_for(&mut rng, base_ms, index),
            label: if n == 0 {
                Some("Main office")
            } else {
                Some("Second office")
            },
            address_line1: format!("{} {}", rng.random_range(10..9999), pick(&mut rng, STREETS)),
            city: zip.city.clone(),
            state: zip.state.clone(),
            zip: zip.zip.clone(),
            latitude: zip.point.latitude + rng.random_range(-0.02..0.02),
            longitude: zip.point.longitude + rng.random_range(-0.02..0.02),
            wheelchair_accessible: rng.random_bool(0.6),
        });
    }

    let mut delivery = Vec::new();
    if !online_only {
        delivery.push(Delivery::InPerson);
    }
    if online_only || rng.random_bool(0.7) {
        delivery.push(Delivery::Video);
    }
    if rng.random_bool(0.25) {
        delivery.push(Delivery::Phone);
    }
    let mut telehealth_states = Vec::new();
    if delivery.iter().any(|d| *d != Delivery::InPerson) {
        telehealth_states.push(home.state.clone());
        if rng.random_bool(0.2) {
            let other = *pick(&mut rng, zips);
            if other.state != home.state {
                telehealth_states.push(other.state.clone());
            }
        }
    }

    let insurance_only = !insurer_ids.is_empty() && rng.random_bool(0.08);
    let (fee_min, fee_max, sliding) = if insurance_only {
        (None, None, None)
    } else {
        let min = rng.random_range(16..=44) * 500; // $80–$220
        let max = min + rng.random_range(0..=20) * 500;
        let sliding = rng
            .random_bool(0.35)
            .then(|| rng.random_range(6..=(min / 500)) * 500);
        (Some(min), Some(max), sliding)
    };

    let mut session_formats = vec![SessionFormat::Individual];
    let couples = modality_ids
        .iter()
        .any(|(_, s)| ["imago", "gottman", "eft"].contains(&s.as_str()))
        || rng.random_bool(0.45);
    if couples {
        session_formats.push(SessionFormat::Couples);
    }
    if rng.random_bool(0.2) {
        session_formats.push(SessionFormat::Family);
    }
    if rng.random_bool(0.1) {
        session_formats.push(SessionFormat::Group);
    }

    let mut languages = vec!["en".to_owned()];
    if rng.random_bool(0.15) {
        languages.push("es".to_owned());
    }
    if rng.random_bool(0.05) {
        languages
            .push((*pick(&mut rng, &["fr", "zh", "vi", "ko", "ar", "pt", "hi", "ru"])).to_owned());
    }

    let license_state = offices
        .first()
        .map_or_else(|| home.state.clone(), |o| o.state.clone());
    // The fields draw from `rng` in this order, so a seed keeps giving the same listings.
    let mut license = |state: String, verified: f64| DemoLicense {
        id: uuid_for(&mut rng, base_ms, index),
        license_type,
        number: format!(
            "{}{}",
            &license_type[..1],
            rng.random_range(10_000..999_999)
        ),
        state,
        expires_on: date(&mut rng, 2027, 2029),
        verified: rng.random_bool(verified),
    };
    let mut licenses = vec![license(license_state, 0.7)];
    if telehealth_states.len() > 1 {
        licenses.push(license(telehealth_states[1].clone(), 0.6));
    }

    let mut certifications = Vec::new();
    let mut offerings = Vec::new();
    for (id, slug) in &modality_ids {
        let cert = match slug.as_str() {
            "imago" => Some((
                "Certified Imago Relationship Therapist",
                "Imago International Training Institute",
                *pick(
                    &mut rng,
                    &["Clinical", "Workshop Presenter", "Supervisor", "Faculty"],
                ),
            )),
            "emdr" => Some((
                "EMDRIA Certified Therapist",
                "EMDR International Association",
                "Certified",
            )),
            "gottman" => Some((
                "Certified Gottman Therapist",
                "The Gottman Institute",
                "Level 3",
            )),
            "eft" => Some(("Certified EFT Therapist", "ICEEFT", "Certified")),
            "dbt" => Some((
                "DBT-Linehan Board Certified Clinician",
                "DBT-Linehan Board of Certification",
                "Clinician",
            )),
            _ => None,
        };
        if let Some((name, issuer, level)) = cert.filter(|_| rng.random_bool(0.6)) {
            certifications.push(DemoCertification {
                id: uuid_for(&mut rng, base_ms, index),
                name,
                issuer,
                modality_id: Some(*id),
                level: Some(level),
                credential_id: format!(
                    "{}-{}",
                    &issuer[..2].to_ascii_uppercase(),
                    rng.random_range(1000..99999)
                ),
                issued_on: date(&mut rng, 2008, 2024),
                verified: rng.random_bool(0.75),
            });
        }
        if slug == "imago" && rng.random_bool(0.5) {
            let start = date(&mut rng, 2027, 2027);
            offerings.push(DemoOffering {
                id: uuid_for(&mut rng, base_ms, index),
                kind: "workshop",
                title: "Getting the Love You Want: a weekend workshop for couples".into(),
                format: "in_person",
                price_cents: 70000,
                duration_minutes: 960,
                ends_on: Some(start.clone()),
                starts_on: Some(start),
                location: offices.first().map(|o| format!("{}, {}", o.city, o.state)),
            });
        }
    }
    if rng.random_bool(0.12) {
        let (kind, title, format, price, minutes) = *pick(
            &mut rng,
            &[
                (
                    "retreat",
                    "Couples retreat weekend",
                    "in_person",
                    150_000,
                    1_440,
                ),
                (
                    "online_course",
                    "Self-paced anxiety skills course",
                    "online",
                    19_900,
                    600,
                ),
                ("group", "Weekly grief support group", "hybrid", 4_500, 90),
                (
                    "intensive",
                    "Two-day couples intensive",
                    "in_person",
                    250_000,
                    720,
                ),
                ("session", "Free 15-minute consultation", "online", 0, 15),
            ],
        );
        offerings.push(DemoOffering {
            id: uuid_for(&mut rng, base_ms, index),
            kind,
            title: title.into(),
            format,
            price_cents: price,
            duration_minutes: minutes,
            starts_on: None,
            ends_on: None,
            location: None,
        });
    }

    let statement = format!(
        "{} As {} {}, I work with {} people facing {} and {}. My approach draws on {}, \
         and I tailor it to each client. {}",
        pick(&mut rng, OPENERS),
        if title.starts_with(['A', 'E', 'I', 'O', 'U']) {
            "an"
        } else {
            "a"
        },
        title.to_lowercase(),
        if couples {
            "couples and individual"
        } else {
            "individual"
        },
        specialties
            .first()
            .map_or("life's challenges", |(_, s)| s.as_str())
            .replace('-', " "),
        specialties
            .get(1)
            .map_or("stress", |(_, s)| s.as_str())
            .replace('-', " "),
        modality_ids
            .iter()
            .map(|(_, s)| s.replace('-', " "))
            .collect::<Vec<_>>()
            .join(", "),
        pick(&mut rng, CLOSERS),
    );

    DemoListing {
        account_id: uuid_for(&mut rng, base_ms, index),
        listing_id: uuid_for(&mut rng, base_ms, index),
        email: format!("demo-s{seed}-{index}@demo.invalid"),
        full_name: display_name.clone(),
        slug,
        profile: ListingProfile {
            display_name,
            pronouns: rng
                .random_bool(0.4)
                .then(|| (*pick(&mut rng, &["she/her", "he/him", "they/them"])).to_owned()),
            credentials: Some(credentials.to_owned()),
            professional_title: Some(title.to_owned()),
            statement: Some(statement),
            phone: Some(format!(
                "+1{}{}{:04}",
                rng.random_range(201..990),
                rng.random_range(200..999),
                rng.random_range(0..10_000)
            )),
            gender: rng.random_bool(0.9).then(|| {
                *pick(
                    &mut rng,
                    &[
                        Gender::Female,
                        Gender::Female,
                        Gender::Male,
                        Gender::NonBinary,
                    ],
                )
            }),
            languages,
            age_groups: some_of(
                &mut rng,
                &[
                    AgeGroup::Children,
                    AgeGroup::Teens,
                    AgeGroup::Adults,
                    AgeGroup::Elders,
                ],
                1,
                3,
            ),
            communities: if rng.random_bool(0.5) {
                some_of(
                    &mut rng,
                    &[
                        Community::Lgbtq,
                        Community::Bipoc,
                        Community::Veterans,
                        Community::FirstResponders,
                        Community::Immigrants,
                        Community::Neurodivergent,
                        Community::Students,
                    ],
                    1,
                    3,
                )
            } else {
                Vec::new()
            },
            faith: rng.random_bool(0.1).then(|| {
                *pick(
                    &mut rng,
                    &[
                        Faith::Christian,
                        Faith::Jewish,
                        Faith::Muslim,
                        Faith::Buddhist,
                        Faith::Interfaith,
                    ],
                )
            }),
            session_formats,
            delivery,
            accepting: {
                use Accepting::{NotAccepting as N, Waitlist as W};
                const A: Accepting = Accepting::Accepting;
                const ACCEPTING: [Accepting; 9] = [A, A, A, A, A, A, W, W, N];
                ACCEPTING[rng.random_range(0..ACCEPTING.len())]
            },
            free_consultation: rng.random_bool(0.55),
            fee_min: fee_min.map(|c| Money::from_db(i64::from(c))),
            fee_max: fee_max.map(|c| Money::from_db(i64::from(c))),
            sliding_scale_min: sliding.map(|c| Money::from_db(i64::from(c))),
            insurance_only,
            payment_methods: some_of(
                &mut rng,
                &[
                    PaymentMethod::Cash,
                    PaymentMethod::Check,
                    PaymentMethod::CreditCard,
                    PaymentMethod::DebitCard,
                    PaymentMethod::Ach,
                    PaymentMethod::Zelle,
                    PaymentMethod::Hsa,
                    PaymentMethod::Fsa,
                ],
                1,
                4,
            ),
            hsa_fsa: rng.random_bool(0.5),
            npi: Some(npi(&mut rng)),
            taxonomy_code: Some(taxonomy_code.to_owned()),
            years_in_practice: Some(rng.random_range(1..=40)),
            telehealth_states,
            modalities: modality_ids.iter().map(|(_, slug)| slug.clone()).collect(),
            specialties: specialties.iter().map(|(_, slug)| slug.clone()).collect(),
            top_specialties: specialties
                .iter()
                .zip(&specialty_refs)
                .filter(|(_, (_, top))| *top)
                .map(|((_, slug), _)| slug.clone())
                .collect(),
            insurers: taxonomy
                .insurers
                .iter()
                .filter(|(id, _)| insurer_ids.contains(id))
                .map(|(_, slug)| slug.clone())
                .collect(),
            ..ListingProfile::default()
        },
        confirmed_days_ago: rng.random_range(0..120),
        modality_ids: modality_ids.iter().map(|(id, _)| *id).collect(),
        specialties: specialty_refs,
        insurer_ids,
        offices,
        licenses,
        certifications,
        offerings,
    }
}
