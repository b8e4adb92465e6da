//! Profile photos: an upload cleaned into variants (`clean`), kept in an object store
//! (`media`), reviewed by an admin before it is public, and served at `/media/…`.

pub mod clean;
pub mod media;
pub mod model;
pub mod routes;
pub mod store;
