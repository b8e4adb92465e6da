//! SQL for listings and their parts. Multi-step writes take a connection inside the
//! caller's transaction.

use sqlx::PgConnection;
use uuid::Uuid;

use super::model::OfficeInput;

#[tracing::instrument(skip(conn, office))]
pub async fn insert_office(
    conn: &mut PgConnection,
    listing_id: Uuid,
    office: &OfficeInput,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let point = office.location();
    sqlx::query(
        "insert into office (id, listing_id, label, address_line1, address_line2, city, state, zip,
                             latitude, longitude, wheelchair_accessible)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(listing_id)
    .bind(&office.label)
    .bind(&office.address_line1)
    .bind(&office.address_line2)
    .bind(&office.city)
    .bind(office.state.as_str())
    .bind(office.zip.as_str())
    .bind(point.latitude)
    .bind(point.longitude)
    .bind(office.wheelchair_accessible)
    .execute(conn)
    .await?;
    Ok(id)
}
