//! What an attacker, an outage and a second terminal do to the service, and what it holds
//! against each.

mod abuse;
mod limits;
mod mfa;
mod outages;
mod pool;
mod secrets;

use serde_json::{Value, json};

pub(super) fn inquiry() -> Value {
    json!({
        "name": "Sam Rivera",
        "email": "sam.rivera@client.example",
        "message": "Do you have an opening on Tuesdays?",
        "preferred_contact": "email",
        "consent": true,
    })
}
