use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Invalid;
use crate::error::FieldCode;

/// The largest amount the directory stores: $100,000.00.
pub const MAX_CENTS: i64 = 10_000_000;

/// Money as integer minor units plus an ISO 4217 currency: `{"amount_cents": 12500, "currency": "USD"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[schema(minimum = 0, maximum = 10000000, example = 12500)]
    pub amount_cents: i64,
    /// ISO 4217 code. The directory currently lists US practices, so only `USD`.
    #[schema(example = "USD")]
    pub currency: Currency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Currency {
    #[serde(rename = "USD")]
    Usd,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
        }
    }
}

impl Money {
    pub fn usd(amount_cents: i64) -> Result<Self, Invalid> {
        Money::new(amount_cents, Currency::Usd)
    }

    pub fn new(amount_cents: i64, currency: Currency) -> Result<Self, Invalid> {
        if amount_cents < 0 {
            return Err(Invalid::new(FieldCode::OutOfRange, "must not be negative"));
        }
        if amount_cents > MAX_CENTS {
            return Err(Invalid::new(
                FieldCode::OutOfRange,
                "must be at most 10000000 cents ($100,000)",
            ));
        }
        Ok(Money {
            amount_cents,
            currency,
        })
    }

    /// Checks a value that arrived through serde (which cannot run the constructor).
    pub fn validated(self) -> Result<Self, Invalid> {
        Money::new(self.amount_cents, self.currency)
    }

    /// For values read back from the database, which enforces the same range.
    pub fn from_db(amount_cents: i64) -> Self {
        Money {
            amount_cents,
            currency: Currency::Usd,
        }
    }
}

// A listing's fees are stored as whole US cents in an `integer` column: the currency is
// implied (the directory lists US practices), and the column's CHECK holds the same range.
impl sqlx::Type<sqlx::Postgres> for Money {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <i32 as sqlx::Type<sqlx::Postgres>>::type_info()
    }
}

impl sqlx::Encode<'_, sqlx::Postgres> for Money {
    fn encode_by_ref(
        &self,
        buf: &mut sqlx::postgres::PgArgumentBuffer,
    ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
        <i32 as sqlx::Encode<sqlx::Postgres>>::encode(i32::try_from(self.amount_cents)?, buf)
    }
}

impl sqlx::Decode<'_, sqlx::Postgres> for Money {
    fn decode(value: sqlx::postgres::PgValueRef<'_>) -> Result<Self, sqlx::error::BoxDynError> {
        let cents = <i32 as sqlx::Decode<sqlx::Postgres>>::decode(value)?;
        Ok(Money::from_db(i64::from(cents)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn serialises_as_the_contract_says() {
        let json = serde_json::to_string(&Money::usd(12500).unwrap()).unwrap();
        assert_eq!(json, r#"{"amount_cents":12500,"currency":"USD"}"#);
    }

    #[test]
    fn refuses_other_currencies_and_negative_amounts() {
        assert!(serde_json::from_str::<Money>(r#"{"amount_cents":1,"currency":"EUR"}"#).is_err());
        assert_eq!(Money::usd(-1).unwrap_err().code, "out_of_range");
        assert!(Money::usd(MAX_CENTS + 1).is_err());
    }

    proptest! {
        #[test]
        fn in_range_amounts_round_trip(cents in 0i64..=MAX_CENTS) {
            let money = Money::usd(cents).unwrap();
            let back: Money = serde_json::from_str(&serde_json::to_string(&money).unwrap()).unwrap();
            prop_assert_eq!(back, money);
        }
    }
}
