//! Free text finds listings through typos and word stems, names word by word.

use serde_json::Value;

use super::{ids, sorted};
use crate::helpers::data::Fixture;
use crate::helpers::spawn_app;

#[tokio::test]
async fn typos_and_stems_still_find_listings() {
    let app = spawn_app().await;
    let anxious = Fixture {
        specialties: vec!["anxiety"],
        modalities: vec!["emdr"],
        statement: "I specialise in helping anxious clients.".into(),
        ..Fixture::new("Dana Wells")
    }
    .insert(&app.db)
    .await;
    Fixture {
        specialties: vec!["grief"],
        modalities: vec!["act"],
        statement: "Loss and mourning.".into(),
        ..Fixture::new("Sam Other")
    }
    .insert(&app.db)
    .await;
    for q in [
        "anxiety",
        "anxeity",
        "anxious",
        "emdr therpy",
        "EMDR",
        "wells",
    ] {
        assert_eq!(
            ids(&app, &format!("q={}", q.replace(' ', "+"))).await,
            sorted(&[anxious]),
            "q={q}"
        );
    }
}

#[tokio::test]
async fn names_match_with_typos_word_by_word() {
    let app = spawn_app().await;
    let kevin = Fixture::new("Kevin Martinez").insert(&app.db).await;
    let maria = Fixture::new("Maria Martinez").insert(&app.db).await;
    let keith = Fixture::new("Keith Marsh").insert(&app.db).await;
    for (q, expected) in [
        ("kevn martines", vec![kevin]),
        ("Kevin Martinez", vec![kevin]),
        ("martinez", vec![kevin, maria]),
        ("maria martinez", vec![maria]),
        ("keith", vec![keith]),
        ("zzzzqqq", vec![]),
    ] {
        assert_eq!(
            ids(&app, &format!("q={}", q.replace(' ', "+"))).await,
            sorted(&expected),
            "q={q}"
        );
    }
    // A renamed listing is found by its new name, typos included: the name words are kept
    // as listings are written.
    sqlx::query(
        "update listing set display_name = 'Kevin Okonkwo', version = version + 1 where id = $1",
    )
    .bind(kevin)
    .execute(&app.db)
    .await
    .unwrap();
    assert_eq!(ids(&app, "q=okonkow").await, sorted(&[kevin]));
    // No listing is both Kevin and Martinez any more: the last word is dropped, and the
    // answer says so.
    let body: Value = app.search("q=kevin+martinez").await.json().await.unwrap();
    assert_eq!(body["query_words_used"], serde_json::json!(["kevin"]));
    assert_eq!(body["items"][0]["id"], kevin.to_string());
    assert_eq!(body["total"], 1);
}
