//! Where photos' objects are kept, through `object_store`: a local directory on the
//! embedded default (`./var/media`), any S3-compatible bucket in production
//! (`APP_MEDIA_STORE=s3://bucket/prefix` with the usual AWS settings). Objects are named by
//! their content's SHA-256, so writing one twice stores it once, and every process behind
//! a balancer serves every other's.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutMode, PutPayload};
use secrecy::{ExposeSecret, SecretString};

/// How the store is reached, from the settings.
#[derive(Debug, Clone)]
pub struct MediaSettings {
    /// A directory, or `s3://bucket[/prefix]`.
    pub store: String,
    /// Where clients fetch objects (ends with `/`); `None`: this service's own `/media/`.
    pub public_url: Option<String>,
    pub s3: S3Settings,
}

#[derive(Debug, Clone, Default)]
pub struct S3Settings {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    pub allow_http: bool,
}

/// The object store and the base of the URLs clients fetch objects from.
#[derive(Clone)]
pub struct Media {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    public_url: String,
}

/// An object's URL: `Media::url_of`.
pub struct MediaUrl<'a, N> {
    base: &'a str,
    name: N,
}

impl<N: std::fmt::Display> std::fmt::Display for MediaUrl<'_, N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.base)?;
        self.name.fmt(f)
    }
}

/// Makes ring the process's TLS provider, which reqwest (the S3 client's HTTP, and any
/// other client in the process) needs before a client is built: the crate is built without
/// aws-lc's C. Idempotent.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Whether `name` is one this service writes: a SHA-256 in hex and a known extension.
pub fn is_object_name(name: &str) -> bool {
    let Some((hex, extension)) = name.split_once('.') else {
        return false;
    };
    hex.len() == 64
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && matches!(extension, "webp" | "jpg")
}

/// The `Content-Type` of an object by its name.
pub fn content_type(name: &str) -> &'static str {
    if name.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "image/webp"
    }
}

impl std::fmt::Debug for Media {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Media")
            .field("store", &self.store.to_string())
            .field("public_url", &self.public_url)
            .finish()
    }
}

impl Media {
    /// The store `settings` name; `own_url` is this service's `/media/` when no public URL
    /// is set.
    pub fn open(settings: &MediaSettings, own_url: &str) -> anyhow::Result<Media> {
        let public_url = settings
            .public_url
            .clone()
            .unwrap_or_else(|| own_url.to_owned());
        let public_url = if public_url.ends_with('/') {
            public_url
        } else {
            format!("{public_url}/")
        };
        let (store, prefix): (Arc<dyn ObjectStore>, Path) =
            match settings.store.strip_prefix("s3://") {
                Some(rest) => {
                    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                    install_tls_provider();
                    let s3 = &settings.s3;
                    let mut builder = AmazonS3Builder::from_env()
                        .with_bucket_name(bucket)
                        .with_virtual_hosted_style_request(false)
                        .with_allow_http(s3.allow_http);
                    if let Some(endpoint) = &s3.endpoint {
                        builder = builder.with_endpoint(endpoint);
                    }
                    if let Some(region) = &s3.region {
                        builder = builder.with_region(region);
                    }
                    if let (Some(id), Some(secret)) = (&s3.access_key_id, &s3.secret_access_key) {
                        builder = builder
                            .with_access_key_id(id)
                            .with_secret_access_key(secret.expose_secret());
                    }
                    (Arc::new(builder.build()?), Path::from(prefix))
                }
                None => {
                    std::fs::create_dir_all(&settings.store)?;
                    let local = LocalFileSystem::new_with_prefix(&settings.store)?;
                    (Arc::new(local), Path::default())
                }
            };
        Ok(Media {
            store,
            prefix,
            public_url,
        })
    }

    fn path(&self, name: &str) -> Path {
        self.prefix.clone().join(name)
    }

    /// The URL a client fetches `name` from.
    pub fn url(&self, name: &str) -> String {
        self.url_of(name).to_string()
    }

    /// The URL a client fetches the object `name` writes, written wherever it goes (a
    /// search page writes its photos' URLs straight into the JSON).
    pub fn url_of<N: std::fmt::Display>(&self, name: N) -> MediaUrl<'_, N> {
        MediaUrl {
            base: &self.public_url,
            name,
        }
    }

    /// Stores `bytes` as `name` unless it is there already (the name is the content's
    /// hash, so it then holds these very bytes).
    pub async fn put(&self, name: &str, bytes: Vec<u8>) -> Result<(), object_store::Error> {
        let path = self.path(name);
        match self
            .store
            .put_opts(&path, PutPayload::from(bytes), PutMode::Create.into())
            .await
        {
            Ok(_) | Err(object_store::Error::AlreadyExists { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The object `name`, if stored.
    pub async fn get(&self, name: &str) -> Result<Option<Bytes>, object_store::Error> {
        match self.store.get(&self.path(name)).await {
            Ok(found) => Ok(Some(found.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Removes `name`; gone already is fine.
    pub async fn delete(&self, name: &str) -> Result<(), object_store::Error> {
        match self.store.delete(&self.path(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Names of the stored objects written longer than `age` ago.
    pub async fn older_than(&self, age: Duration) -> Result<Vec<String>, object_store::Error> {
        let cutoff = SystemTime::now()
            .checked_sub(age)
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        let prefix = (!self.prefix.as_ref().is_empty()).then_some(&self.prefix);
        let listed: Vec<_> = self.store.list(prefix).try_collect().await?;
        Ok(listed
            .into_iter()
            .filter(|meta| meta.last_modified.timestamp() < cutoff)
            .filter_map(|meta| meta.location.filename().map(str::to_owned))
            .filter(|name| is_object_name(name))
            .collect())
    }
}
