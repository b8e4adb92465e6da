//! `seed-demo`: loads N deterministic demo listings as published listings, with COPY, in
//! one transaction (an interrupted run leaves nothing behind), their directory entries
//! included, so they are searchable from the commit. A seed can be loaded once;
//! other seeds add to it. Real data is never touched: demo accounts are flagged `is_demo`
//! and use the reserved `.invalid` mail domain, and they cannot sign in.

mod entry;
pub mod generate;
pub mod load;
pub mod model;
pub mod portraits;
mod words;

use std::sync::LazyLock;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::PgPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::db::copy::CopyBuffer;
use crate::listings::store::{PROFILE_COPY_COLUMNS, copy_profile};
use crate::photos::media::Media;
use crate::photos::model::Photo;
use generate::{Places, Taxonomy};
use model::DemoListing;

/// Listings generated and sent per batch.
const BATCH: u64 = 5_000;
pub const MAX_COUNT: u64 = 2_000_000;

#[derive(Debug, Clone, Copy)]
pub struct SeedOptions {
    pub count: u64,
    pub seed: u64,
}

#[derive(Debug)]
pub struct SeedReport {
    pub listings: u64,
    pub elapsed: Duration,
}

/// Marks every stored password hash of a demo account: not a PHC string, so no password
/// ever matches it.
pub const DEMO_PASSWORD_HASH: &str = "!demo-account-cannot-sign-in";

/// The COPY statements of a load, in the order `encode` fills their buffers.
static TABLES: LazyLock<[String; 12]> = LazyLock::new(|| {
    [
        "copy account (id, email, password_hash, full_name, email_verified_at, is_demo) from stdin".into(),
        format!(
            "copy listing (id, account_id, status, slug, {PROFILE_COPY_COLUMNS}, last_confirmed_at,
                submitted_at, published_at) from stdin"
        ),
        "copy listing_modality (listing_id, modality_id) from stdin".into(),
        "copy listing_specialty (listing_id, specialty_id, is_top) from stdin".into(),
        "copy listing_insurer (listing_id, insurer_id) from stdin".into(),
        "copy office (id, listing_id, label, address_line1, city, state, zip, latitude, longitude,
        wheelchair_accessible) from stdin".into(),
        "copy license (id, listing_id, license_type, license_number, state, expires_on,
        verification_status, verified_at) from stdin".into(),
        "copy certification (id, listing_id, name, issuer, modality_id, level, credential_id, issued_on,
        verification_status, verified_at) from stdin".into(),
        "copy offering (id, listing_id, kind, title, format, price_cents, duration_minutes, starts_on,
        ends_on, location) from stdin".into(),
        "copy listing_photo (id, listing_id, status, objects, reviewed_at) from stdin".into(),
        entry::ENTRY_COPY.into(),
        entry::OFFICE_COPY.into(),
    ]
});

/// On an empty directory that has never been seeded, loads `count` demo listings (the
/// embedded default's first start), and says so.
pub async fn seed_first_start(pool: &PgPool, media: &Media, count: u64) -> anyhow::Result<()> {
    let fresh: bool = sqlx::query_scalar!("select not exists (select 1 from listing) and not exists (select 1 from demo_seed_run) as \"fresh!\"")
    .fetch_one(pool)
    .await?;
    if fresh {
        let report = seed(pool, media, SeedOptions { count, seed: 1 }, |_, _| {}).await?;
        tracing::info!(
            listings = report.listings,
            "first start: loaded demo listings (set APP_EMBEDDED_DEMO_LISTINGS=0 to skip)"
        );
    }
    Ok(())
}

/// Loads the demo set, with portraits stored in `media`; `progress(done, total)` is called
/// after each batch.
pub async fn seed(
    pool: &PgPool,
    media: &Media,
    options: SeedOptions,
    progress: impl Fn(u64, u64),
) -> anyhow::Result<SeedReport> {
    if options.count == 0 || options.count > MAX_COUNT {
        bail!("--count must be between 1 and {MAX_COUNT}");
    }
    let seed_key = i64::try_from(options.seed).context("--seed must be below 2^63")?;
    let started = Instant::now();
    load::recover(pool, load::STRANDED_AFTER).await?;
    // The generator writes rows that satisfy every foreign key and per-listing limit by
    // construction (and the taxonomy rows it references are locked FOR SHARE below), so a
    // role that may do so skips the per-row trigger checks: they are most of the load time.
    let fast_path: bool = sqlx::query_scalar!(
        "select rolsuper as \"rolsuper!\" from pg_roles where rolname = current_user"
    )
    .fetch_one(pool)
    .await?;
    let mut lanes = load::Lanes::open(pool, seed_key, fast_path).await?;
    let record = lanes.record();

    let loaded = sqlx::query!(
        "select listings, loaded_at from demo_seed_run where seed = $1 for update",
        seed_key
    )
    .fetch_optional(&mut **record)
    .await?;
    if let Some((listings, at)) = loaded.map(|run| (run.listings, run.loaded_at)) {
        bail!(
            "demo data for seed {} is already loaded ({listings} listings, {}); nothing was changed. \
             Run with another --seed to add more",
            options.seed,
            at.format(&Rfc3339).unwrap_or_default()
        );
    }
    sqlx::query!(
        "insert into demo_seed_run (seed, listings) values ($1, $2)",
        seed_key,
        i32::try_from(options.count)?
    )
    .execute(&mut **record)
    .await?;
    let taxonomy = Taxonomy::locked(record).await?;
    if taxonomy.modalities.is_empty() || taxonomy.specialties.is_empty() {
        bail!("the taxonomy is empty: run the migrations first");
    }
    tracing::info!(fast_path, lanes = lanes.count(), "loading demo listings");
    // One portrait per eight listings, at most `PORTRAITS`, shared among them.
    let portraits = options.count.div_ceil(8).min(portraits::PORTRAITS);
    let photos = std::sync::Arc::new(portraits::store(media, options.seed, portraits).await?);

    // Generation runs on its own thread, one batch ahead of the database, and hands each
    // lane its tables.
    let (senders, channels): (Vec<_>, Vec<_>) = (0..lanes.count())
        .map(|_| tokio::sync::mpsc::channel::<load::Share>(2))
        .unzip();
    let lane_of: [usize; 12] = std::array::from_fn(|table| lanes.lane_of(table));
    let SeedOptions { count, seed } = options;
    let generator = std::thread::spawn(move || {
        let places = Places::load();
        // Whole seconds: the entries write timestamps into JSON as PostgreSQL would.
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let base_ms = u64::try_from(now.unix_timestamp()).unwrap_or(0) * 1000;
        let mut ids = Vec::with_capacity(count as usize);
        let mut start = 0;
        while start < count {
            let end = (start + BATCH).min(count);
            let mut buffers: [CopyBuffer; 12] =
                std::array::from_fn(|_| CopyBuffer::with_capacity(256 * 1024));
            for index in start..end {
                let listing = generate::listing(seed, index, base_ms, &taxonomy, &places);
                let photo = &photos[(index % photos.len() as u64) as usize];
                encode(&listing, (&taxonomy, photo), now, fast_path, &mut buffers);
                ids.push(listing.listing_id);
            }
            let mut shares: Vec<load::Share> = senders.iter().map(|_| Vec::new()).collect();
            for (table, buffer) in buffers.into_iter().enumerate() {
                shares[lane_of[table]].push((table, buffer));
            }
            for (sender, share) in senders.iter().zip(shares) {
                if sender.blocking_send(share).is_err() {
                    return ids; // A loader stopped (an error); it reports why.
                }
            }
            start = end;
        }
        ids
    });

    let done = std::sync::atomic::AtomicU64::new(0);
    let per_table = lanes
        .load(&TABLES, channels, || {
            let now = (done.load(Relaxed) + BATCH).min(count);
            done.store(now, Relaxed);
            progress(now, count);
        })
        .await?;
    let loaded_ids = generator
        .join()
        .map_err(|_| anyhow::anyhow!("the demo generator thread panicked"))?;
    if loaded_ids.len() as u64 != count || done.load(Relaxed) != count {
        bail!("generated {} of {count} listings", loaded_ids.len());
    }
    let commit_started = Instant::now();
    if fast_path {
        // The triggers that number changes for the search indexes' feed are off: the new
        // entries are numbered here, at the end, so that writers elsewhere wait for the
        // feed's lock only while this load commits; the followers are woken after it.
        sqlx::query!("select directory_change_number($1)", &loaded_ids)
            .execute(&mut **lanes.feed())
            .await?;
    }
    lanes.commit().await?;
    sqlx::query!("select pg_notify('directory_change', '')")
        .execute(pool)
        .await?;
    tracing::debug!(?per_table, commit = ?commit_started.elapsed(), "demo load timings");
    tracing::info!(
        load_ms = started.elapsed().as_millis() as u64,
        "demo listings loaded with their directory entries"
    );
    // Fresh statistics, so the planner knows the tables just grew; on two sessions, as the
    // load, about even in time.
    let analyze = |statement: &'static str| async move {
        let mut conn = pool.acquire().await?;
        sqlx::raw_sql(statement).execute(&mut *conn).await?;
        anyhow::Ok(())
    };
    tokio::try_join!(
        analyze(
            "set statement_timeout = 0; analyze listing; analyze directory_entry; analyze directory_office;
             reset statement_timeout"
        ),
        analyze(
            "set statement_timeout = 0; analyze account; analyze listing_modality; analyze listing_specialty;
             analyze listing_insurer; analyze office; analyze license; analyze certification;
             analyze offering; analyze listing_photo; reset statement_timeout"
        ),
    )?;
    Ok(SeedReport {
        listings: count,
        elapsed: started.elapsed(),
    })
}

fn timestamp(now: OffsetDateTime, days_ago: u32) -> String {
    (now - time::Duration::days(i64::from(days_ago)))
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Appends the listing's rows to `out` (in the order of `TABLES`); its public rows only
/// `with_entries`: without the fast path the triggers are on and build them at commit.
fn encode(
    l: &DemoListing,
    (taxonomy, photo): (&Taxonomy, &Photo),
    now: OffsetDateTime,
    with_entries: bool,
    out: &mut [CopyBuffer; 12],
) {
    let [
        account,
        listing,
        modalities,
        specialties,
        insurers,
        offices,
        licenses,
        certifications,
        offerings,
        photos,
        entries,
        entry_offices,
    ] = out;
    let photo_json = serde_json::to_string(photo).unwrap_or_default();
    if with_entries {
        entry::encode(
            l,
            (taxonomy, &photo_json),
            now - time::Duration::days(i64::from(l.confirmed_days_ago)),
            entries,
            entry_offices,
        );
    }
    let now_text = timestamp(now, 0);
    let confirmed = timestamp(now, l.confirmed_days_ago);
    let published = timestamp(now, l.confirmed_days_ago + 30);
    // Approved when the listing was published; the row's id is the listing's, turned.
    photos
        .uuid(uuid::Uuid::from_u128(
            l.listing_id.as_u128().rotate_left(64),
        ))
        .uuid(l.listing_id)
        .text("approved")
        .text(&photo_json)
        .text(&published)
        .end_row();

    account
        .uuid(l.account_id)
        .text(&l.email)
        .text(DEMO_PASSWORD_HASH)
        .text(&l.full_name)
        .text(&published)
        .boolean(true)
        .end_row();

    listing
        .uuid(l.listing_id)
        .uuid(l.account_id)
        .text("published")
        .text(&l.slug);
    copy_profile(listing, &l.profile);
    listing
        .text(&confirmed)
        .text(&published)
        .text(&published)
        .end_row();

    for id in &l.modality_ids {
        modalities.uuid(l.listing_id).display(id).end_row();
    }
    for (id, top) in &l.specialties {
        specialties
            .uuid(l.listing_id)
            .display(id)
            .boolean(*top)
            .end_row();
    }
    for id in &l.insurer_ids {
        insurers.uuid(l.listing_id).display(id).end_row();
    }
    for o in &l.offices {
        offices
            .uuid(o.id)
            .uuid(l.listing_id)
            .opt_text(o.label)
            .text(&o.address_line1)
            .text(&o.city)
            .text(&o.state)
            .text(&o.zip)
            .display(format_args!("{:.6}", o.latitude))
            .display(format_args!("{:.6}", o.longitude))
            .boolean(o.wheelchair_accessible)
            .end_row();
    }
    for c in &l.licenses {
        licenses
            .uuid(c.id)
            .uuid(l.listing_id)
            .text(c.license_type)
            .text(&c.number)
            .text(&c.state)
            .text(&c.expires_on)
            .text(if c.verified { "verified" } else { "unverified" })
            .opt_text(c.verified.then_some(now_text.as_str()))
            .end_row();
    }
    for c in &l.certifications {
        certifications
            .uuid(c.id)
            .uuid(l.listing_id)
            .text(c.name)
            .text(c.issuer)
            .opt_display(c.modality_id)
            .opt_text(c.level)
            .text(&c.credential_id)
            .text(&c.issued_on)
            .text(if c.verified { "verified" } else { "unverified" })
            .opt_text(c.verified.then_some(now_text.as_str()))
            .end_row();
    }
    for f in &l.offerings {
        offerings
            .uuid(f.id)
            .uuid(l.listing_id)
            .text(f.kind)
            .text(&f.title)
            .text(f.format)
            .display(f.price_cents)
            .display(f.duration_minutes)
            .opt_text(f.starts_on.as_deref())
            .opt_text(f.ends_on.as_deref())
            .opt_text(f.location.as_deref())
            .end_row();
    }
}
