//! Managing modalities, specialties and insurers: create, rename, retire (a retired term
//! leaves new edits, the public lists and search facets, but listings that have it keep
//! it), and delete, refused with 409 `term_in_use` while any listing or certification uses
//! the term.

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use utoipa::ToSchema;

use crate::audit::AuditEntry;
use crate::auth::AdminUser;
use crate::domain::vocab::SpecialtyCategory;
use crate::domain::{Slug, Text, at_most};
use crate::error::FieldCode;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::http::{Db, Json, Reply};
use crate::taxonomy::store::{self, NewTerm, TermChange};
pub use crate::taxonomy::{AdminTerm, Kind};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermCreate {
    #[schema(max_length = 60, example = "somatic-experiencing")]
    slug: String,
    #[schema(max_length = 120)]
    name: String,
    /// The Spanish name, shown to `Accept-Language: es` and found by Spanish searches;
    /// without it the English name stands in.
    #[schema(max_length = 120, example = "Experiencia Somática")]
    name_es: Option<String>,
    /// Modalities and specialties only.
    #[schema(max_length = 500)]
    description: Option<String>,
    /// Specialties only, and required for them.
    category: Option<SpecialtyCategory>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermPatch {
    #[schema(max_length = 120)]
    name: Option<String>,
    /// The Spanish name (replaced; absent leaves it as it is).
    #[schema(max_length = 120)]
    name_es: Option<String>,
    #[schema(max_length = 500)]
    description: Option<String>,
    category: Option<SpecialtyCategory>,
    /// true retires the term, false brings it back.
    retired: Option<bool>,
}

fn check_text(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) {
    if value.trim().is_empty() {
        errors.push(FieldError::new(
            field,
            FieldCode::Required,
            "must not be empty",
        ));
    } else if let Err(invalid) = Text::Line.check(value, max) {
        errors.push(invalid.at(field));
    }
}

fn check_fields(
    kind: Kind,
    description: &Option<String>,
    category: &Option<SpecialtyCategory>,
    creating: bool,
    errors: &mut Vec<FieldError>,
) {
    if let Some(d) = description {
        if kind == Kind::Insurer {
            errors.push(FieldError::new(
                "description",
                FieldCode::NotAllowed,
                "insurers have no description",
            ));
        } else if let Err(invalid) = at_most(d, 500) {
            errors.push(invalid.at("description"));
        }
    }
    match (kind, category) {
        (Kind::Specialty, None) if creating => errors.push(FieldError::new(
            "category",
            FieldCode::Required,
            "a specialty needs a category",
        )),
        (Kind::Modality | Kind::Insurer, Some(_)) => errors.push(FieldError::new(
            "category",
            FieldCode::NotAllowed,
            "only specialties have a category",
        )),
        _ => {}
    }
}

async fn fetch(pool: &PgPool, kind: Kind, slug: &str) -> Result<AdminTerm, ApiError> {
    store::admin_term(pool, kind, slug)
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn list(pool: &PgPool, kind: Kind) -> Reply {
    Ok(HttpResponse::Ok().json(store::admin_terms(pool, kind).await?))
}

/// 409 naming the field whose value (`slug` or `name`, as sent) another term already has.
fn conflict_or_internal(err: sqlx::Error, slug: &str, name: Option<&str>) -> ApiError {
    match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let (field, value) = match name {
                Some(name) if db.constraint().is_some_and(|c| c.ends_with("_name_key")) => {
                    ("name", name)
                }
                _ => ("slug", slug),
            };
            ApiError::new(
                ErrorCode::Conflict,
                format!("another term already has this {field}"),
            )
            .with_errors(vec![FieldError::new(
                field,
                FieldCode::Taken,
                format!("`{value}`: already in use by another term"),
            )])
        }
        _ => ApiError::from(err),
    }
}

async fn create(admin: AdminUser, pool: &PgPool, kind: Kind, body: TermCreate) -> Reply {
    let mut errors = Vec::new();
    if let Err(e) = Slug::parse(&body.slug) {
        errors.push(e.at("slug"));
    } else if body.slug.len() > 60 {
        errors.push(FieldError::new(
            "slug",
            FieldCode::TooLong,
            "at most 60 characters",
        ));
    }
    check_text("name", &body.name, 120, &mut errors);
    if let Some(name_es) = &body.name_es {
        check_text("name_es", name_es, 120, &mut errors);
    }
    check_fields(kind, &body.description, &body.category, true, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = pool.begin().await?;
    let term = NewTerm {
        slug: &body.slug,
        name: body.name.trim(),
        name_es: body.name_es.as_deref().map(str::trim),
        description: body.description.as_deref(),
        category: body.category,
    };
    store::insert_term(&mut tx, kind, &term)
        .await
        .map_err(|e| conflict_or_internal(e, &body.slug, Some(term.name)))?;
    AuditEntry::new(admin.0.actor(), &format!("{}.created", kind.table()))
        .details(json!({ "slug": body.slug, "name": body.name, "name_es": body.name_es }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    let term = fetch(pool, kind, &body.slug).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            "location",
            format!("/v1/admin/{}/{}", kind.plural(), body.slug),
        ))
        .json(term))
}

async fn update(admin: AdminUser, pool: &PgPool, kind: Kind, slug: &str, body: TermPatch) -> Reply {
    let mut errors = Vec::new();
    if let Some(name) = &body.name {
        check_text("name", name, 120, &mut errors);
    }
    if let Some(name_es) = &body.name_es {
        check_text("name_es", name_es, 120, &mut errors);
    }
    check_fields(kind, &body.description, &body.category, false, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut tx = pool.begin().await?;
    let change = TermChange {
        name: body.name.as_deref().map(str::trim),
        name_es: body.name_es.as_deref().map(str::trim),
        description: body.description.as_deref(),
        category: body.category,
        retired: body.retired,
    };
    let updated = store::update_term(&mut tx, kind, slug, &change)
        .await
        .map_err(|e| conflict_or_internal(e, slug, change.name))?;
    if !updated {
        return Err(ApiError::not_found());
    }
    let action = match body.retired {
        Some(true) => "retired",
        Some(false) => "unretired",
        None => "updated",
    };
    AuditEntry::new(admin.0.actor(), &format!("{}.{action}", kind.table()))
        .details(json!({
            "slug": slug,
            "name": body.name,
            "name_es": body.name_es,
            "description": body.description,
            "category": body.category,
            "retired": body.retired,
        }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(fetch(pool, kind, slug).await?))
}

async fn remove(admin: AdminUser, pool: &PgPool, kind: Kind, slug: &str) -> Reply {
    let mut tx = pool.begin().await?;
    let deleted = match store::delete_term(&mut tx, kind, slug).await {
        Ok(deleted) => deleted,
        Err(sqlx::Error::Database(db)) if db.is_foreign_key_violation() => {
            return Err(ApiError::new(
                ErrorCode::TermInUse,
                format!(
                    "`{slug}` is used by listings or their certifications; retire it instead (PATCH with \"retired\": true)."
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    if !deleted {
        return Err(ApiError::not_found());
    }
    AuditEntry::new(admin.0.actor(), &format!("{}.deleted", kind.table()))
        .details(json!({ "slug": slug }))
        .record(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

macro_rules! term_routes {
    ($kind:expr, $path:literal, $item:literal, $list:ident, $create:ident, $update:ident, $delete:ident, $what:literal) => {
        #[doc = concat!("Every ", $what, ", retired ones included, with how often each is used.")]
        #[utoipa::path(summary = concat!("Every ", $what, ", retired ones included, with how often each is used."), operation_id = concat!("admin_", stringify!($list)), security(("bearer" = [])), responses((status = 200, body = Vec<AdminTerm>)))]
        #[get($path)]
        pub async fn $list(_admin: AdminUser, pool: Db) -> Reply {
            list(&pool, $kind).await
        }

        #[doc = concat!("Creates a ", $what, ". Slugs and names are unique (409 `conflict`).")]
        #[utoipa::path(
            summary = concat!("Creates a ", $what, ". Slugs and names are unique (409 `conflict`)."), operation_id = concat!("admin_", stringify!($create)),
            security(("bearer" = [])),
            request_body = TermCreate,
            responses(
                (status = 201, body = AdminTerm),
                (status = 409),
            )
        )]
        #[post($path)]
        pub async fn $create(admin: AdminUser, pool: Db, body: Json<TermCreate>) -> Reply {
            create(admin, &pool, $kind, body.0).await
        }

        #[doc = concat!("Renames, re-describes, retires (`\"retired\": true`) or brings back a ", $what, ".")]
        #[utoipa::path(
            summary = concat!("Renames, re-describes, retires (`\"retired\": true`) or brings back a ", $what, "."), operation_id = concat!("admin_", stringify!($update)),
            security(("bearer" = [])),
            params(("slug" = String, Path)),
            request_body = TermPatch,
            responses(
                (status = 200, body = AdminTerm),
                (status = 404),
                (status = 409, description = "`conflict`: another term has this slug or name"),
            )
        )]
        #[patch($item)]
        pub async fn $update(admin: AdminUser, pool: Db, slug: web::Path<crate::http::path::PathText>, body: Json<TermPatch>) -> Reply {
            update(admin, &pool, $kind, &slug, body.0).await
        }

        #[doc = concat!("Deletes an unused ", $what, "; one in use is 409 `term_in_use` (retire it instead).")]
        #[utoipa::path(
            summary = concat!("Deletes an unused ", $what, "; one in use is 409 `term_in_use` (retire it instead)."), operation_id = concat!("admin_", stringify!($delete)),
            security(("bearer" = [])),
            params(("slug" = String, Path)),
            responses(
                (status = 204),
                (status = 404),
                (status = 409, description = "`term_in_use`"),
            )
        )]
        #[delete($item)]
        pub async fn $delete(admin: AdminUser, pool: Db, slug: web::Path<crate::http::path::PathText>) -> Reply {
            remove(admin, &pool, $kind, &slug).await
        }
    };
}

term_routes!(
    Kind::Modality,
    "/admin/modalities",
    "/admin/modalities/{slug}",
    list_modalities,
    create_modality,
    update_modality,
    delete_modality,
    "modality"
);
term_routes!(
    Kind::Specialty,
    "/admin/specialties",
    "/admin/specialties/{slug}",
    list_specialties,
    create_specialty,
    update_specialty,
    delete_specialty,
    "specialty"
);
term_routes!(
    Kind::Insurer,
    "/admin/insurers",
    "/admin/insurers/{slug}",
    list_insurers,
    create_insurer,
    update_insurer,
    delete_insurer,
    "insurer"
);
