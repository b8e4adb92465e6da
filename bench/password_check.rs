//! `password_check [N]`: what the new-password rule (`NewPassword::parse`: length, the
//! common list, zxcvbn with the account's email and name) costs per call, on N varied
//! candidates (default 3,000): passphrases of 2–7 words, random strings of 12–128
//! characters, keyboard walks, repeats and dated words, the longest allowed included.
//! Prints the first call (which builds zxcvbn's dictionaries), the distribution of the
//! others, how many were refused and the slowest candidate.

// A benchmark: any failure ends it with its message.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use therapist_directory::auth::password::NewPassword;

const WORDS: &[&str] = &[
    "river", "lantern", "quiet", "harbour", "copper", "meadow", "violet", "anchor", "winter",
    "orchard", "pepper", "signal", "marble", "thunder", "velvet", "compass", "ember", "willow",
    "canyon", "saffron", "garden", "silver", "falcon", "biscuit", "mosaic", "tundra", "pillow",
    "summer", "dragon", "monkey", "sunshine", "password", "football", "shadow", "master",
];
const WALKS: &[&str] = &[
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "1qaz2wsx3edc",
    "1234567890",
];

fn candidate(rng: &mut StdRng) -> String {
    match rng.random_range(0..5) {
        0 | 1 => {
            let n = rng.random_range(2..=7);
            let words: Vec<&str> = (0..n)
                .map(|_| WORDS[rng.random_range(0..WORDS.len())])
                .collect();
            words.join(if rng.random_bool(0.5) { " " } else { "-" })
        }
        2 => {
            let n = rng.random_range(12..=128);
            (0..n)
                .map(|_| rng.random_range(b'!'..=b'~') as char)
                .collect()
        }
        3 => {
            let walk = WALKS[rng.random_range(0..WALKS.len())];
            walk.repeat(rng.random_range(2..=12))
        }
        _ => format!(
            "{}{}{}",
            WORDS[rng.random_range(0..WORDS.len())],
            rng.random_range(1950..2030),
            "!".repeat(rng.random_range(1..=4))
        ),
    }
    .chars()
    .take(128)
    .collect()
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(3_000, |a| a.parse().unwrap());
    let mut rng = StdRng::seed_from_u64(7);
    let personal = ["hailey.shafir@example.com", "Hailey Shafir"];
    let mut times = Vec::with_capacity(n + 1);
    let mut slowest = (Duration::ZERO, String::new());
    let mut refused = 0;
    // The first call builds zxcvbn's dictionaries (once per process).
    let started = Instant::now();
    let _ = NewPassword::parse("a first candidate", &personal);
    println!(
        "first call: {:.3} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let longest: String = "abcdefghijklmnopqrstuvwxyz0123456789".repeat(4)[..128].to_owned();
    for i in 0..=n {
        let password = if i == n {
            longest.clone()
        } else {
            candidate(&mut rng)
        };
        let started = Instant::now();
        refused += usize::from(NewPassword::parse(&password, &personal).is_err());
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, password.clone());
        }
        times.push(took);
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} candidates, {refused} refused: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        times.len(),
        ms(at(0.5)),
        ms(at(0.99)),
        ms(*times.last().unwrap())
    );
    println!("slowest ({:.3} ms): {:?}", ms(slowest.0), slowest.1);
}
