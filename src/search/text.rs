//! Words: how text is cut into index keys, which words mean the same, which say nothing,
//! and the directory's own vocabulary (languages, faiths, age groups… by name) that `q`
//! matches without the listing having written it.
//!
//! Every word is indexed under two keys, itself and its English stem (Snowball), so
//! "anxious" finds "anxiety" while a name such as "Martinez" is still found as written.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};

/// Words longer than this are cut (no real word is; it bounds the work per word).
pub const MAX_WORD_BYTES: usize = 40;

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Lowercased alphanumeric words of `text`, accents folded for the common Latin letters.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut out = String::with_capacity(w.len());
            for c in w.chars() {
                for l in c.to_lowercase() {
                    out.push(fold(l));
                }
            }
            if out.len() > MAX_WORD_BYTES {
                let mut end = MAX_WORD_BYTES;
                while !out.is_char_boundary(end) {
                    end -= 1;
                }
                out.truncate(end);
            }
            out
        })
}

fn fold(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'í' | 'ì' | 'î' | 'ï' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' => 'o',
        'ú' | 'ù' | 'û' | 'ü' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        other => other,
    }
}

/// The English stem of a lowercased word.
pub fn stem(word: &str) -> String {
    stemmer().stem(word).into_owned()
}

/// The keys a word is indexed and looked up under: itself, and its stem when different.
pub fn keys(word: &str) -> impl Iterator<Item = String> {
    let stemmed = stem(word);
    let second = (stemmed != word).then_some(stemmed);
    std::iter::once(word.to_owned()).chain(second)
}

/// Words that say nothing about which listing is wanted: every listing is a therapist
/// offering therapy, so "therapist near me" asks for everything.
pub fn is_generic(word: &str) -> bool {
    const GENERIC: &[&str] = &[
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "with",
        "in",
        "on",
        "at",
        "to",
        "by",
        "my",
        "me",
        "near",
        "i",
        "who",
        "is",
        "are",
        "or",
        "find",
        "looking",
        "best",
        "good",
        "local",
        "therapy",
        "therapies",
        "terapia",
        "terapias",
        "de",
        "del",
        "en",
        "para",
        "con",
        "el",
        "la",
        "los",
        "las",
        "y",
        "un",
        "una",
        "que",
        "terapeuta",
        "terapeutas",
        "therapist",
        "therapists",
        "therapeutic",
        "psychotherapy",
        "psychotherapist",
        "psychotherapists",
        "counseling",
        "counselling",
        "counselor",
        "counsellor",
        "counselors",
        "counsellors",
        "counsel",
        "provider",
        "providers",
        "clinician",
        "clinicians",
        "help",
        "session",
        "sessions",
        "treatment",
    ];
    GENERIC.contains(&word)
}

/// Groups of words that mean the same to someone searching the directory (`synonyms.txt`,
/// one group per line). A query word of a group also looks up every other word of it.
pub fn synonyms(word: &str) -> &'static [String] {
    static GROUPS: OnceLock<Vec<Vec<String>>> = OnceLock::new();
    let groups = GROUPS.get_or_init(|| {
        include_str!("synonyms.txt")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| l.split(',').map(|w| w.trim().to_owned()).collect())
            .collect()
    });
    groups
        .iter()
        .find(|g| g.iter().any(|w| w == word))
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The longest phrase a query may name, in words.
pub const MAX_PHRASE_WORDS: usize = 4;

/// Languages by name (ISO 639-1 code, English name), for `q=spanish`.
pub const LANGUAGE_NAMES: &[(&str, &str)] = &[
    ("en", "english"),
    ("es", "spanish"),
    ("fr", "french"),
    ("zh", "chinese"),
    ("zh", "mandarin"),
    ("zh", "cantonese"),
    ("vi", "vietnamese"),
    ("ko", "korean"),
    ("ar", "arabic"),
    ("pt", "portuguese"),
    ("hi", "hindi"),
    ("ru", "russian"),
    ("de", "german"),
    ("it", "italian"),
    ("ja", "japanese"),
    ("tl", "tagalog"),
    ("pl", "polish"),
    ("he", "hebrew"),
    ("fa", "farsi"),
    ("fa", "persian"),
    ("ur", "urdu"),
    ("bn", "bengali"),
    ("pa", "punjabi"),
    ("gu", "gujarati"),
    ("ht", "haitian creole"),
    ("el", "greek"),
    ("tr", "turkish"),
    ("uk", "ukrainian"),
    ("sw", "swahili"),
    ("so", "somali"),
    ("am", "amharic"),
    ("yi", "yiddish"),
    ("ase", "asl"),
    ("ase", "sign language"),
];

/// Languages by their Spanish names, for `q=ansiedad en español` and Spanish labels; the
/// first name of a code is its label.
pub const LANGUAGE_NAMES_ES: &[(&str, &str)] = &[
    ("en", "inglés"),
    ("es", "español"),
    ("fr", "francés"),
    ("zh", "chino"),
    ("zh", "mandarín"),
    ("zh", "cantonés"),
    ("vi", "vietnamita"),
    ("ko", "coreano"),
    ("ar", "árabe"),
    ("pt", "portugués"),
    ("hi", "hindi"),
    ("ru", "ruso"),
    ("de", "alemán"),
    ("it", "italiano"),
    ("ja", "japonés"),
    ("tl", "tagalo"),
    ("pl", "polaco"),
    ("he", "hebreo"),
    ("fa", "persa"),
    ("fa", "farsi"),
    ("ur", "urdu"),
    ("bn", "bengalí"),
    ("pa", "panyabí"),
    ("gu", "guyaratí"),
    ("ht", "criollo haitiano"),
    ("el", "griego"),
    ("tr", "turco"),
    ("uk", "ucraniano"),
    ("sw", "suajili"),
    ("so", "somalí"),
    ("am", "amárico"),
    ("yi", "ídish"),
    ("ase", "lengua de señas"),
];

/// The same values in Spanish: (field, value, words). The first word of a value is its
/// Spanish label.
pub const VALUE_WORDS_ES: &[(&str, &str, &[&str])] = &[
    (
        "age_group",
        "children",
        &["niños", "niño", "niñas", "infantil"],
    ),
    (
        "age_group",
        "teens",
        &["adolescentes", "adolescente", "jóvenes"],
    ),
    ("age_group", "adults", &["adultos", "adulto"]),
    (
        "age_group",
        "elders",
        &["personas mayores", "mayores", "tercera edad"],
    ),
    ("session_format", "individual", &["individual"]),
    (
        "session_format",
        "couples",
        &["pareja", "parejas", "matrimonio"],
    ),
    (
        "session_format",
        "family",
        &["familia", "familias", "familiar"],
    ),
    ("session_format", "group", &["grupo", "grupos", "grupal"]),
    (
        "delivery",
        "in_person",
        &["presencial", "en persona", "consultorio"],
    ),
    (
        "delivery",
        "video",
        &["en línea", "videollamada", "virtual", "telesalud"],
    ),
    ("delivery", "phone", &["teléfono", "telefónica"]),
    ("offering_kind", "workshop", &["taller", "talleres"]),
    ("offering_kind", "retreat", &["retiro", "retiros"]),
    (
        "offering_kind",
        "online_course",
        &["curso en línea", "curso", "cursos"],
    ),
    ("offering_kind", "group", &["grupo", "grupos"]),
    ("offering_kind", "intensive", &["intensivo", "intensivos"]),
    (
        "gender",
        "female",
        &["mujer", "femenino", "terapeuta mujer"],
    ),
    ("gender", "male", &["hombre", "masculino"]),
    (
        "faith",
        "christian",
        &["cristiano", "cristiana", "católico", "católica"],
    ),
    ("faith", "jewish", &["judío", "judía"]),
    ("faith", "muslim", &["musulmán", "musulmana"]),
];

/// A vocabulary value as people read it: in English from its wire name (`online_course`
/// is "Online course"), in Spanish the first of its Spanish words.
pub fn value_label(field: &str, value: &str, spanish: bool) -> String {
    let spanish_word = spanish
        .then(|| {
            VALUE_WORDS_ES
                .iter()
                .find(|(f, v, _)| *f == field && *v == value)
                .and_then(|(_, _, words)| words.first())
        })
        .flatten();
    capitalised(spanish_word.copied().unwrap_or(&value.replace('_', " ")))
}

/// A language's label: the first of its names, in English or Spanish.
pub fn language_label(code: &str, spanish: bool) -> String {
    let names = if spanish {
        LANGUAGE_NAMES_ES
    } else {
        LANGUAGE_NAMES
    };
    names
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| code.to_owned(), |(_, name)| capitalised(name))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// What a listing's fixed vocabulary values are called in a query: (field, value, words).
/// Fields are those of `index::Field`.
pub const VALUE_WORDS: &[(&str, &str, &[&str])] = &[
    (
        "age_group",
        "children",
        &["children", "child", "kids", "kid", "pediatric"],
    ),
    (
        "age_group",
        "teens",
        &[
            "teens",
            "teen",
            "teenager",
            "teenagers",
            "adolescent",
            "adolescents",
            "youth",
        ],
    ),
    ("age_group", "adults", &["adults", "adult"]),
    (
        "age_group",
        "elders",
        &["elders", "elder", "elderly", "older adults", "aging"],
    ),
    (
        "community",
        "lgbtq",
        &[
            "lgbtq",
            "lgbt",
            "lgbtqia",
            "gay",
            "lesbian",
            "queer",
            "transgender",
            "trans",
            "bisexual",
        ],
    ),
    ("community", "bipoc", &["bipoc", "poc", "people of color"]),
    (
        "community",
        "veterans",
        &["veterans", "veteran", "military"],
    ),
    (
        "community",
        "first_responders",
        &[
            "first responders",
            "first responder",
            "firefighters",
            "police",
        ],
    ),
    (
        "community",
        "immigrants",
        &["immigrants", "immigrant", "refugees"],
    ),
    (
        "community",
        "deaf_hard_of_hearing",
        &["deaf", "hard of hearing"],
    ),
    (
        "community",
        "disabilities",
        &["disabilities", "disability", "disabled"],
    ),
    (
        "community",
        "neurodivergent",
        &["neurodivergent", "neurodiversity", "autistic"],
    ),
    ("community", "students", &["students", "student", "college"]),
    ("community", "seniors", &["seniors", "senior"]),
    (
        "faith",
        "christian",
        &["christian", "christianity", "church", "catholic"],
    ),
    ("faith", "jewish", &["jewish", "judaism"]),
    ("faith", "muslim", &["muslim", "islamic", "islam"]),
    ("faith", "buddhist", &["buddhist", "buddhism"]),
    ("faith", "hindu", &["hindu", "hinduism"]),
    ("faith", "interfaith", &["interfaith"]),
    ("faith", "secular", &["secular"]),
    (
        "session_format",
        "individual",
        &["individual", "individuals", "one on one"],
    ),
    (
        "session_format",
        "couples",
        &[
            "couples", "couple", "marriage", "marital", "married", "partners",
        ],
    ),
    ("session_format", "family", &["family", "families"]),
    ("session_format", "group", &["group", "groups"]),
    (
        "delivery",
        "in_person",
        &["in person", "office", "face to face"],
    ),
    (
        "delivery",
        "video",
        &[
            "online",
            "video",
            "telehealth",
            "virtual",
            "remote",
            "telemedicine",
            "teletherapy",
        ],
    ),
    ("delivery", "phone", &["phone", "telephone"]),
    ("offering_kind", "workshop", &["workshop", "workshops"]),
    ("offering_kind", "retreat", &["retreat", "retreats"]),
    (
        "offering_kind",
        "online_course",
        &["course", "courses", "online course", "class", "classes"],
    ),
    ("offering_kind", "group", &["group", "groups"]),
    ("offering_kind", "intensive", &["intensive", "intensives"]),
    ("gender", "female", &["female", "woman", "women"]),
    ("gender", "male", &["male", "man", "men"]),
    ("gender", "non_binary", &["nonbinary", "non binary"]),
];

/// Words that only join the words of a taxonomy term's name ("Blue Cross and Blue
/// Shield"), and so do not stand for the term alone.
pub fn is_joining_word(word: &str) -> bool {
    matches!(
        word,
        "and"
            | "or"
            | "of"
            | "the"
            | "for"
            | "with"
            | "to"
            | "in"
            | "a"
            | "an"
            | "issues"
            | "disorder"
            | "disorders"
            | "health"
            | "therapy"
            | "therapies"
            | "based"
    )
}

/// A stable hash of a name's words, to tell an exact name match.
pub fn name_key<'a>(words: impl Iterator<Item = &'a str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    for w in words {
        w.hash(&mut hasher);
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_folded_and_cut() {
        let got: Vec<String> = words("Dr. José Núñez-Smith, LCSW").collect();
        assert_eq!(got, ["dr", "jose", "nunez", "smith", "lcsw"]);
        let long = "x".repeat(100);
        assert_eq!(words(&long).next().unwrap().len(), MAX_WORD_BYTES);
    }

    #[test]
    fn keys_are_the_word_and_its_stem() {
        assert_eq!(keys("clients").collect::<Vec<_>>(), ["clients", "client"]);
        assert_eq!(keys("martinez").collect::<Vec<_>>(), ["martinez"]);
    }

    #[test]
    fn synonyms_come_from_the_table() {
        assert!(synonyms("teen").iter().any(|w| w == "adolescent"));
        assert!(synonyms("zzz").is_empty());
    }
}
