//! Free text as a client types it: a judgment list of natural queries, each with the
//! listing that must come in the top five, over fixtures that share many words; and no
//! query of the directory's own words answers empty while some listing matches a word.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::data::Fixture;
use crate::helpers::{TestApp, spawn_app};

async fn search(app: &TestApp, q: &str) -> Value {
    let q: String = q
        .bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b if b.is_ascii_alphanumeric() => (b as char).to_string(),
            b => format!("%{b:02X}"),
        })
        .collect();
    let response = app.search(&format!("q={q}&limit=5")).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn top(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The listings of the judgment list: each one has something the others lack, and many
/// share words (anxiety, couples, Spanish, a city) so that ranking decides.
fn fixtures() -> Vec<(&'static str, Fixture)> {
    let f = Fixture::new;
    vec![
        (
            "hailey",
            Fixture {
                modalities: vec!["imago"],
                session_formats: vec!["couples"],
                offering: Some("workshop"),
                offering_title: "Getting the Love You Want weekend",
                city: "Raleigh",
                specialties: vec!["relationship-issues"],
                statement: "Imago couples therapy and weekend workshops.".into(),
                ..f("Hailey Shafir")
            },
        ),
        (
            "marisol",
            Fixture {
                languages: vec!["en", "es"],
                faith: Some("christian"),
                city: "Brooklyn",
                offices: vec![(40.6782, -73.9442, "NY")],
                specialties: vec!["anxiety", "depression"],
                title: Some("Licensed Clinical Social Worker"),
                credentials: Some("LCSW"),
                ..f("Marisol Vega")
            },
        ),
        (
            "daniel",
            Fixture {
                age_groups: vec!["teens"],
                specialties: vec!["anxiety"],
                modalities: vec!["cbt"],
                city: "Austin",
                offices: vec![(30.2672, -97.7431, "TX")],
                statement: "I work with adolescents facing social anxiety and school stress."
                    .into(),
                ..f("Daniel Okafor")
            },
        ),
        (
            "grace",
            Fixture {
                languages: vec!["en", "ko"],
                session_formats: vec!["family"],
                modalities: vec!["family-systems"],
                city: "Los Angeles",
                offices: vec![(34.0522, -118.2437, "CA")],
                ..f("Grace Kim")
            },
        ),
        (
            "wei",
            Fixture {
                languages: vec!["en", "zh"],
                offices: vec![],
                telehealth: vec!["CA", "WA"],
                delivery: vec!["video"],
                specialties: vec!["workplace-stress"],
                ..f("Wei Chen")
            },
        ),
        (
            "sarah",
            Fixture {
                faith: Some("jewish"),
                specialties: vec!["grief"],
                statement: "Support after the loss of a parent or child.".into(),
                ..f("Sarah Goldberg")
            },
        ),
        (
            "omar",
            Fixture {
                languages: vec!["en", "ar"],
                faith: Some("muslim"),
                communities: vec!["immigrants"],
                specialties: vec!["life-transitions"],
                ..f("Omar Haddad")
            },
        ),
        (
            "tom",
            Fixture {
                communities: vec!["veterans"],
                specialties: vec!["trauma-ptsd"],
                modalities: vec!["emdr"],
                city: "San Diego",
                offices: vec![(32.7157, -117.1611, "CA")],
                ..f("Tom Becker")
            },
        ),
        (
            "priya",
            Fixture {
                languages: vec!["en", "hi"],
                specialties: vec!["eating-disorders"],
                modalities: vec!["dbt"],
                ..f("Priya Raman")
            },
        ),
        (
            "lucas",
            Fixture {
                communities: vec!["lgbtq"],
                specialties: vec!["gender-dysphoria", "lgbtq-issues"],
                city: "Seattle",
                offices: vec![(47.6062, -122.3321, "WA")],
                ..f("Lucas Moreau")
            },
        ),
        (
            "nina",
            Fixture {
                age_groups: vec!["children"],
                modalities: vec!["play-therapy"],
                specialties: vec!["adhd"],
                statement: "Play therapy for kids with ADHD and big feelings.".into(),
                ..f("Nina Petrova")
            },
        ),
        (
            "james",
            Fixture {
                specialties: vec!["addiction"],
                modalities: vec!["motivational-interviewing"],
                statement: "Recovery from alcohol and substance use.".into(),
                ..f("James O'Brien")
            },
        ),
        (
            "aisha",
            Fixture {
                session_formats: vec!["couples"],
                modalities: vec!["gottman"],
                specialties: vec!["infidelity", "relationship-issues"],
                statement: "Couples rebuilding trust after an affair.".into(),
                ..f("Aisha Bello")
            },
        ),
        (
            "robert",
            Fixture {
                age_groups: vec!["elders"],
                communities: vec!["seniors"],
                specialties: vec!["grief", "chronic-illness"],
                ..f("Robert Lindqvist")
            },
        ),
        (
            "elena",
            Fixture {
                languages: vec!["en", "es"],
                session_formats: vec!["couples"],
                modalities: vec!["eft"],
                city: "Miami",
                offices: vec![(25.7617, -80.1918, "FL")],
                statement: "Terapia de pareja en español.".into(),
                ..f("Elena Rodriguez")
            },
        ),
        (
            "kevin",
            Fixture {
                specialties: vec!["ocd"],
                modalities: vec!["exposure-response-prevention"],
                ..f("Kevin Martinez")
            },
        ),
        (
            "maria",
            Fixture {
                specialties: vec!["depression"],
                insurers: vec!["aetna"],
                modalities: vec!["cbt"],
                ..f("Maria Martinez")
            },
        ),
        (
            "hannah",
            Fixture {
                offering: Some("retreat"),
                offering_title: "Mindful Mountain Retreat",
                modalities: vec!["mindfulness-based"],
                specialties: vec!["workplace-stress"],
                ..f("Hannah Weiss")
            },
        ),
        (
            "ben",
            Fixture {
                specialties: vec!["insomnia"],
                modalities: vec!["cbt"],
                statement: "CBT for insomnia, without pills.".into(),
                ..f("Ben Adler")
            },
        ),
        (
            "chloe",
            Fixture {
                specialties: vec!["anger-management"],
                session_formats: vec!["group"],
                offering: Some("group"),
                offering_title: "Anger management group",
                ..f("Chloe Dubois")
            },
        ),
        (
            "samuel",
            Fixture {
                insurers: vec!["medicare", "tricare"],
                communities: vec!["veterans"],
                specialties: vec!["depression"],
                ..f("Samuel Green")
            },
        ),
        (
            "fatima",
            Fixture {
                gender: Some("female"),
                faith: Some("muslim"),
                specialties: vec!["anxiety"],
                ..f("Fatima Noor")
            },
        ),
        (
            "mei",
            Fixture {
                languages: vec!["en", "zh"],
                specialties: vec!["parenting"],
                session_formats: vec!["family"],
                city: "San Francisco",
                offices: vec![(37.7749, -122.4194, "CA")],
                ..f("Mei Lin")
            },
        ),
        (
            "jacob",
            Fixture {
                specialties: vec!["premarital"],
                faith: Some("christian"),
                session_formats: vec!["couples"],
                modalities: vec!["faith-based"],
                ..f("Jacob Miller")
            },
        ),
        (
            "olivia",
            Fixture {
                modalities: vec!["art-therapy"],
                age_groups: vec!["teens", "adults"],
                specialties: vec!["self-esteem"],
                ..f("Olivia Brooks")
            },
        ),
        (
            "noah",
            Fixture {
                modalities: vec!["hypnotherapy"],
                specialties: vec!["addiction"],
                statement: "Hypnosis to quit smoking.".into(),
                ..f("Noah Fischer")
            },
        ),
        (
            "ava",
            Fixture {
                communities: vec!["deaf_hard_of_hearing"],
                languages: vec!["en", "ase"],
                ..f("Ava Thompson")
            },
        ),
        (
            "liam",
            Fixture {
                specialties: vec!["divorce"],
                session_formats: vec!["individual"],
                statement: "Starting again after divorce.".into(),
                city: "Chicago",
                offices: vec![(41.8781, -87.6298, "IL")],
                ..f("Liam Walsh")
            },
        ),
        (
            "zoe",
            Fixture {
                specialties: vec!["bipolar-disorder"],
                insurers: vec!["kaiser-permanente"],
                ..f("Zoe Carter")
            },
        ),
        (
            "isaac",
            Fixture {
                modalities: vec!["psychodynamic"],
                specialties: vec!["personality-disorders"],
                credentials: Some("PhD"),
                title: Some("Clinical Psychologist"),
                ..f("Isaac Levy")
            },
        ),
        (
            "rosa",
            Fixture {
                languages: vec!["en", "es"],
                age_groups: vec!["teens"],
                specialties: vec!["anxiety"],
                city: "Brooklyn",
                offices: vec![(40.6782, -73.9442, "NY")],
                modalities: vec!["emdr"],
                ..f("Rosa Alvarez")
            },
        ),
        (
            "ethan",
            Fixture {
                offering: Some("online_course"),
                offering_title: "Calm in 30 days",
                specialties: vec!["anxiety"],
                offices: vec![],
                telehealth: vec!["TX"],
                delivery: vec!["video"],
                ..f("Ethan Cole")
            },
        ),
    ]
}

/// A service holding the judgment list's listings, and their ids by key.
async fn stored() -> (TestApp, std::collections::HashMap<&'static str, String>) {
    let app = spawn_app().await;
    let mut ids = std::collections::HashMap::new();
    for (key, fixture) in fixtures() {
        ids.insert(key, fixture.insert(&app.db).await.to_string());
    }
    (app, ids)
}

#[tokio::test]
async fn the_judgment_list_finds_each_expected_listing_in_the_top_five() {
    let (app, ids) = stored().await;
    let judgments: &[(&str, &str)] = &[
        ("Hailey Shafir", "hailey"),
        ("haley shafir", "hailey"),
        ("imago workshop", "hailey"),
        ("couples workshop raleigh", "hailey"),
        ("spanish speaking christian counselor brooklyn", "marisol"),
        ("lcsw brooklyn anxiety", "marisol"),
        ("teen anxiety austin", "daniel"),
        ("social anxiety adolescents", "daniel"),
        ("korean family therapist", "grace"),
        ("mandarin online therapist", "wei"),
        ("jewish grief counselor", "sarah"),
        ("arabic muslim immigrant", "omar"),
        ("veteran ptsd emdr", "tom"),
        ("eating disorder hindi", "priya"),
        ("lgbtq gender identity seattle", "lucas"),
        ("play therapy kids adhd", "nina"),
        ("alcohol recovery", "james"),
        ("infidelity couples gottman", "aisha"),
        ("grief seniors chronic illness", "robert"),
        ("terapia de pareja", "elena"),
        ("spanish couples miami", "elena"),
        ("ocd exposure", "kevin"),
        ("depression aetna cbt", "maria"),
        ("mindfulness retreat", "hannah"),
        ("insomnia cbt", "ben"),
        ("anger management group", "chloe"),
        ("tricare veterans depression", "samuel"),
        ("muslim woman anxiety", "fatima"),
        ("chinese parenting san francisco", "mei"),
        ("christian premarital counseling", "jacob"),
        ("art therapy teens self esteem", "olivia"),
        ("hypnosis smoking", "noah"),
        ("deaf asl", "ava"),
        ("divorce chicago", "liam"),
        ("bipolar kaiser", "zoe"),
        ("psychologist phd psychodynamic", "isaac"),
        ("spanish teen emdr brooklyn", "rosa"),
        ("online course anxiety texas", "ethan"),
        ("marisl vega", "marisol"),
        ("depresion", "maria"),
    ];
    let mut misses = Vec::new();
    for (q, key) in judgments {
        let body = search(&app, q).await;
        if !top(&body).contains(&ids[key]) {
            misses.push(format!("{q} → {key}: got {}", body["query_words_used"]));
        }
    }
    let hit_rate = 100 * (judgments.len() - misses.len()) / judgments.len();
    assert!(
        misses.is_empty(),
        "{} of {} judgments missed ({hit_rate}% hit):\n{}",
        misses.len(),
        judgments.len(),
        misses.join("\n")
    );
}

#[tokio::test]
async fn no_query_of_the_directorys_words_answers_empty_when_some_word_matches() {
    let app = spawn_app().await;
    let mut ids: Vec<Uuid> = Vec::new();
    for (_, fixture) in fixtures() {
        ids.push(fixture.insert(&app.db).await);
    }
    let vocabulary = [
        "anxiety",
        "couples",
        "spanish",
        "brooklyn",
        "emdr",
        "teen",
        "online",
        "workshop",
        "christian",
        "grief",
        "veterans",
        "depression",
        "retreat",
        "korean",
        "family",
        "kaiser",
        "insomnia",
        "lgbtq",
        "texas",
        "seattle",
        "martinez",
        "trauma",
        "kids",
    ];
    let mut rng = StdRng::seed_from_u64(17);
    for _ in 0..60 {
        let n = rng.random_range(1..=4);
        let mut words: Vec<&str> = (0..n)
            .map(|_| vocabulary[rng.random_range(0..vocabulary.len())])
            .collect();
        if rng.random_bool(0.3) {
            words.insert(rng.random_range(0..=words.len()), "zebrafish");
        }
        let q = words.join(" ");
        let body = search(&app, &q).await;
        assert!(body["total"].as_u64().unwrap() > 0, "q={q}: {body}");
        // Every word read as a filter ("online kaiser"): no free text is left.
        if body["interpreted"]["text"].is_null() {
            assert!(body["query_words_used"].is_null(), "q={q}: {body}");
            continue;
        }
        let used = body["query_words_used"].as_array().unwrap();
        assert!(!used.is_empty(), "q={q}");
        assert!(!used.contains(&Value::from("zebrafish")), "q={q}");
    }
}

/// Sentences as people type them into one box: places with and without `in`, insurers,
/// languages, "online", Spanish, misspellings. Each must find its listing in the top three,
/// reading phrases as filters and a place as `near`.
#[tokio::test]
async fn sentences_find_what_they_ask_for() {
    let (app, ids) = stored().await;
    let judgments: &[(&str, &str)] = &[
        ("emdr therapist in brooklyn", "rosa"),
        ("spanish speaking therapist in brooklyn for my teen", "rosa"),
        (
            "christian counselor near brooklyn ny who speaks spanish",
            "marisol",
        ),
        ("anxiety lcsw in brooklyn", "marisol"),
        ("teh best emdr therapist for teens in brooklyn", "rosa"),
        ("teen anxiety in austin", "daniel"),
        ("cbt for anxiety austin tx", "daniel"),
        ("couples therapy in miami en español", "elena"),
        ("terapia de pareja en miami", "elena"),
        ("korean speaking family therapist in los angeles", "grace"),
        ("mandarin speaking therapist online", "wei"),
        (
            "online therapist who speaks mandarin for work stress",
            "wei",
        ),
        ("emdr for veterans with ptsd in san diego", "tom"),
        ("lgbtq affirming therapist in seattle", "lucas"),
        ("gender identity support seattle wa", "lucas"),
        ("divorce counseling in chicago", "liam"),
        ("therapist in chicago for divorce", "liam"),
        ("depression therapist that takes aetna", "maria"),
        ("cbt aetna", "maria"),
        ("depresion aetna", "maria"),
        ("bipolar therapist who takes kaiser", "zoe"),
        ("kaiser permanente bipolar disorder", "zoe"),
        ("tricare therapist for veterans", "samuel"),
        ("medicare depression counseling", "samuel"),
        ("chinese speaking parenting help in san francisco", "mei"),
        ("parenting support san francisco ca", "mei"),
        ("arabic speaking counselor", "omar"),
        ("hindi speaking eating disorder therapist", "priya"),
        ("asl therapist for deaf clients", "ava"),
        ("sign language therapist", "ava"),
        ("free consultation couples workshop raleigh", "hailey"),
        ("imago couples workshop in raleigh nc", "hailey"),
        ("weekend workshop for couples", "hailey"),
        ("accepting new clients imago", "hailey"),
        ("mindfulness retreat for work stress", "hannah"),
        ("anger management group near raleigh", "chloe"),
        ("grief counselor for seniors with chronic illness", "robert"),
        ("jewish grief support after losing a parent", "sarah"),
        ("muslim female therapist for anxiety", "fatima"),
        ("online course for anxiety in texas", "ethan"),
        ("online anxiety therapist texas", "ethan"),
        ("ocd exposure therapy", "kevin"),
        ("insomnia without pills", "ben"),
        ("quit smoking hypnosis", "noah"),
        ("alcohol recovery support", "james"),
        ("affair recovery gottman", "aisha"),
        ("art therapy for teens with low self esteem", "olivia"),
        ("play therapy for kids with adhd", "nina"),
        ("psychodynamic psychologist phd", "isaac"),
    ];
    let mut misses = Vec::new();
    for (q, key) in judgments {
        let body = search(&app, q).await;
        let top_three: Vec<String> = top(&body).into_iter().take(3).collect();
        if !top_three.contains(&ids[key]) {
            misses.push(format!("{q} → {key}: read as {}", body["interpreted"]));
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} sentences missed:\n{}",
        misses.len(),
        judgments.len(),
        misses.join("\n")
    );
}
