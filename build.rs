// `sqlx::migrate!` embeds the migrations at compile time; without this, editing a migration
// does not rebuild the crate (as sqlx's documentation recommends).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
