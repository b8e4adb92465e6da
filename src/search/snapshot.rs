//! The index written to a file after a build, so that the next start reads it instead of
//! building again from PostgreSQL (seconds rather than tens of seconds at a million
//! listings), then catches up with the change feed from the snapshot's position as after
//! any build.
//!
//! A snapshot is used only if it was written by this very executable (its SHA-256 is in
//! the header: another build may index differently), from this database (the feed's epoch,
//! a random id migration 0033 stored in it, and the database's name), and at a position the
//! feed has reached (a database restored from an older backup numbers its changes from
//! below it). Anything else, a truncated or corrupt file included, is rebuilt from
//! PostgreSQL and written anew: a snapshot is never served unless it is this database's
//! own past.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use uuid::Uuid;

use super::index::Index;

const MAGIC: &[u8; 8] = b"TDINDEX1";

/// Which executable, database and feed position a snapshot holds.
#[derive(Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    build: [u8; 32],
    epoch: Uuid,
    database: String,
    /// The last change the index holds.
    pub seq: i64,
}

/// This executable's SHA-256, read once.
static BUILD: LazyLock<[u8; 32]> = LazyLock::new(|| {
    std::env::current_exe()
        .and_then(std::fs::read)
        .map(|bytes| Sha256::digest(bytes).into())
        // An unreadable executable matches no snapshot: the zero hash is never written.
        .unwrap_or([0; 32])
});

/// The header a snapshot of this database at `seq` has.
pub async fn header(conn: &mut PgConnection, seq: i64) -> Result<Header, sqlx::Error> {
    let (epoch, database) = super::store::feed_identity(conn).await?;
    Ok(Header {
        build: *BUILD,
        epoch,
        database,
        seq,
    })
}

/// Why a snapshot was not used.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    #[error("no snapshot at {0}")]
    Missing(PathBuf),
    #[error("the snapshot could not be read: {0}")]
    Unreadable(String),
    #[error("the snapshot was written by another build or for another database")]
    Foreign,
    #[error("the snapshot holds change {held}, past the feed's latest {latest}")]
    Ahead { held: i64, latest: i64 },
}

/// The index in `path` if it is `expected`'s database at a position no later than
/// `latest`, with the position it holds. Reads the whole file (blocking).
pub fn read(path: &Path, expected: &Header, latest: i64) -> Result<(Index, i64), Refused> {
    // The file's bytes (about 400 MB at a million listings) are freed before `restore`
    // derives the rest, so its allocations reuse that memory rather than add to it.
    let (mut index, seq) = {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Refused::Missing(path.to_owned()));
            }
            Err(e) => return Err(Refused::Unreadable(e.to_string())),
        };
        let unreadable = |e: postcard::Error| Refused::Unreadable(e.to_string());
        let body = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| Refused::Unreadable("not an index snapshot".into()))?;
        let (header, body) = postcard::take_from_bytes::<Header>(body).map_err(unreadable)?;
        if header.build == [0; 32]
            || (&header.build, &header.epoch, &header.database)
                != (&expected.build, &expected.epoch, &expected.database)
        {
            return Err(Refused::Foreign);
        }
        if header.seq > latest {
            return Err(Refused::Ahead {
                held: header.seq,
                latest,
            });
        }
        let index: Index = postcard::from_bytes(body).map_err(unreadable)?;
        (index, header.seq)
    };
    index.restore();
    Ok((index, seq))
}

/// Writes `index` with `header` to `path`: to a temporary file beside it, then renamed
/// over it, so a reader sees the old snapshot or the new one, never half of one. Readable
/// by the service's user only. Blocking.
pub fn write(path: &Path, header: &Header, index: &Index) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let temporary = path.with_extension("partial");
    let file = {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&temporary)?
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    out.write_all(MAGIC)?;
    let failed = |e: postcard::Error| std::io::Error::other(e.to_string());
    postcard::to_io(header, &mut out).map_err(failed)?;
    postcard::to_io(index, &mut out).map_err(failed)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use time::OffsetDateTime;

    use super::*;
    use crate::search::fixtures::{entry, index_of};
    use crate::search::index::Entry;
    use crate::search::lexicon::Lexicon;
    use crate::search::params::SearchParams;
    use crate::search::query::run;

    fn header(seq: i64) -> Header {
        Header {
            build: *BUILD,
            epoch: Uuid::from_u128(7),
            database: "directory".into(),
            seq,
        }
    }

    fn entries(rng: &mut StdRng, n: usize) -> Vec<Entry> {
        let words = ["anxiety", "grief", "couples", "trauma", "teens", "burnout"];
        (0..n)
            .map(|i| Entry {
                fee_floor_cents: rng
                    .random_bool(0.8)
                    .then(|| rng.random_range(40..250) * 100),
                last_confirmed_at: rng.random_bool(0.9).then(|| {
                    OffsetDateTime::from_unix_timestamp(
                        rng.random_range(1_700_000_000..1_790_000_000),
                    )
                    .unwrap()
                }),
                accepting: rng.random_bool(0.5),
                modality_ids: vec![1],
                delivery: vec![if i % 3 == 0 { "video" } else { "in_person" }.into()],
                offices: (0..rng.random_range(0..3))
                    .map(|_| {
                        (
                            rng.random_range(30.0..40.0),
                            rng.random_range(-100.0..-80.0),
                        )
                    })
                    .collect(),
                ..entry(
                    &format!("Person {i}"),
                    &format!("{} and {}", words[i % 6], words[(i * 7) % 6]),
                )
            })
            .collect()
    }

    /// Every listing of every search, in order, with totals and facets.
    fn answers(index: &Index, lexicon: &Lexicon) -> Vec<String> {
        [
            "q=anxiety&facets=modality,delivery",
            "q=grief%20couples&sort=fee",
            "near=35.5,-90&radius_km=300&sort=distance&facets=delivery",
            "sort=recently_confirmed&accepting=true",
            "max_fee_cents=12000&sort=fee",
            "bbox=-95,32,-85,38",
        ]
        .iter()
        .map(|query| {
            let p = SearchParams::parse(query).unwrap();
            let a = run(index, lexicon, &p, p.effective_sort(), None, 40).unwrap();
            let page: Vec<String> = a.page.iter().map(|h| h.listing.to_string()).collect();
            format!("{query}: {} {page:?} {}", a.total, a.facets)
        })
        .collect()
    }

    #[test]
    fn a_snapshot_reads_back_the_index_it_was_written_from() {
        let mut rng = StdRng::seed_from_u64(5);
        let (mut index, _) = index_of(entries(&mut rng, 400));
        // Deleted slots, then some reused: the free slots are found again.
        let gone: Vec<Uuid> = (0..40).map(|d| index.uuid(d * 7)).collect();
        index.apply(entries(&mut rng, 10), &gone);
        let dir = std::env::temp_dir().join(format!("snapshot-test-{}", Uuid::now_v7()));
        let path = dir.join("index.snapshot");
        write(&path, &header(42), &index).unwrap();

        let (mut read_back, seq) = read(&path, &header(0), 42).unwrap();
        assert_eq!(seq, 42);
        let lexicon = |index: &Index| {
            let mut lexicon = Lexicon::build(&index.taxonomy);
            lexicon.refresh_known(index);
            lexicon
        };
        assert_eq!(
            answers(&index, &lexicon(&index)),
            answers(&read_back, &lexicon(&read_back))
        );

        // Both go on the same way: the same changes leave the same searches (in slots taken
        // in another order, which no order of results depends on).
        let more = entries(&mut rng, 50);
        let again: Vec<Uuid> = (100..110).map(|d| index.uuid(d)).collect();
        index.apply(more.clone(), &again);
        read_back.apply(more, &again);
        assert_eq!(
            answers(&index, &lexicon(&index)),
            answers(&read_back, &lexicon(&read_back))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_foreign_stale_or_damaged_snapshot_is_refused() {
        let mut rng = StdRng::seed_from_u64(6);
        let (index, _) = index_of(entries(&mut rng, 50));
        let dir = std::env::temp_dir().join(format!("snapshot-test-{}", Uuid::now_v7()));
        let path = dir.join("index.snapshot");
        assert!(matches!(
            read(&path, &header(0), 9),
            Err(Refused::Missing(_))
        ));
        write(&path, &header(9), &index).unwrap();
        let other_database = Header {
            database: "elsewhere".into(),
            ..header(0)
        };
        let other_epoch = Header {
            epoch: Uuid::from_u128(8),
            ..header(0)
        };
        let other_build = Header {
            build: [1; 32],
            ..header(0)
        };
        for expected in [other_database, other_epoch, other_build] {
            assert!(matches!(read(&path, &expected, 9), Err(Refused::Foreign)));
        }
        assert!(matches!(
            read(&path, &header(0), 8),
            Err(Refused::Ahead { held: 9, latest: 8 })
        ));
        let bytes = std::fs::read(&path).unwrap();
        for cut in [4, 60, bytes.len() / 2, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert!(
                matches!(read(&path, &header(0), 9), Err(Refused::Unreadable(_))),
                "cut at {cut}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
