//! Closed vocabularies of the directory (the database holds the same lists in CHECK
//! constraints or enum types). Each is a snake_case string on the wire and in the database,
//! and binds and decodes as itself: `stored as "text"` for a checked text column (arrays of
//! it as `text[]`), or the name of the PostgreSQL enum type.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Shared behaviour of the vocabularies, for parsing query parameters and stored text.
pub trait Vocabulary: Sized + Copy + 'static {
    const ALL: &'static [Self];
    const NAME: &'static str;
    fn as_str(self) -> &'static str;

    fn parse(raw: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == raw)
    }

    /// "one of `a`, `b`, `c`" for error messages.
    fn expected() -> String {
        let all: Vec<String> = Self::ALL
            .iter()
            .map(|v| format!("`{}`", v.as_str()))
            .collect();
        format!("one of {}", all.join(", "))
    }

    /// Each value's wire name, as a `text[]` column holds them.
    fn texts(values: &[Self]) -> Vec<&'static str> {
        values.iter().map(|v| v.as_str()).collect()
    }
}

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident stored as $stored:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        // `rename_all` rather than a rename per variant: utoipa reads `rename_all` into the
        // schema's enum, so the document lists the same strings serde reads and writes
        // (`all_vocabularies_match_their_schema` below holds them together); sqlx reads the
        // same rule, so the database holds the same strings too (`wire_names_match_as_str`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema, sqlx::Type)]
        #[serde(rename_all = "snake_case")]
        #[sqlx(type_name = $stored, rename_all = "snake_case")]
        pub enum $name {
            $($variant,)+
        }

        impl Vocabulary for $name {
            const ALL: &'static [Self] = &[$($name::$variant,)+];
            const NAME: &'static str = stringify!($name);
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }
        }
    };
}

vocabulary!(
    /// Gender, for clients who prefer a therapist of a given gender.
    Gender stored as "text" { Female => "female", Male => "male", NonBinary => "non_binary" }
);
vocabulary!(AgeGroup stored as "text" { Children => "children", Teens => "teens", Adults => "adults", Elders => "elders" });
vocabulary!(Community stored as "text" {
    Lgbtq => "lgbtq",
    Bipoc => "bipoc",
    Veterans => "veterans",
    FirstResponders => "first_responders",
    Immigrants => "immigrants",
    DeafHardOfHearing => "deaf_hard_of_hearing",
    Disabilities => "disabilities",
    Neurodivergent => "neurodivergent",
    Students => "students",
    Seniors => "seniors",
});
vocabulary!(Faith stored as "text" {
    Christian => "christian",
    Jewish => "jewish",
    Muslim => "muslim",
    Buddhist => "buddhist",
    Hindu => "hindu",
    Interfaith => "interfaith",
    Secular => "secular",
});
vocabulary!(SessionFormat stored as "text" { Individual => "individual", Couples => "couples", Family => "family", Group => "group" });
vocabulary!(Delivery stored as "text" { InPerson => "in_person", Video => "video", Phone => "phone" });
vocabulary!(Accepting stored as "accepting_status" { Accepting => "accepting", Waitlist => "waitlist", NotAccepting => "not_accepting" });
vocabulary!(PaymentMethod stored as "text" {
    Cash => "cash",
    Check => "check",
    CreditCard => "credit_card",
    DebitCard => "debit_card",
    Ach => "ach",
    Paypal => "paypal",
    Venmo => "venmo",
    Zelle => "zelle",
    Hsa => "hsa",
    Fsa => "fsa",
});
vocabulary!(OfferingKind stored as "offering_kind" {
    Session => "session",
    Workshop => "workshop",
    Retreat => "retreat",
    OnlineCourse => "online_course",
    Group => "group",
    Intensive => "intensive",
});
vocabulary!(OfferingFormat stored as "offering_format" { InPerson => "in_person", Online => "online", Hybrid => "hybrid" });
vocabulary!(VerificationStatus stored as "verification_status" { Unverified => "unverified", Verified => "verified", Rejected => "rejected" });
// Also the database's `listing_status` (a doc comment here would enter the OpenAPI
// schema); the moves between its states are in `listings::lifecycle`.
vocabulary!(
    ListingStatus stored as "listing_status" {
    Draft => "draft",
    PendingReview => "pending_review",
    Published => "published",
    Rejected => "rejected",
    Suspended => "suspended",
    Unpublished => "unpublished",
});
vocabulary!(SpecialtyCategory stored as "specialty_category" {
    MentalHealth => "mental_health",
    Trauma => "trauma",
    Relationships => "relationships",
    Addiction => "addiction",
    SexualityAndGender => "sexuality_and_gender",
    LifeChallenges => "life_challenges",
});

// Written out: the enum comes from the macro above, which cannot take `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for Accepting {
    fn default() -> Self {
        Accepting::Accepting
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_match_as_str() {
        for v in Delivery::ALL {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.as_str()));
            assert_eq!(Delivery::parse(v.as_str()), Some(*v));
        }
        assert_eq!(Delivery::parse("teleport"), None);
        assert!(Delivery::expected().contains("`in_person`"));
    }
}
