//! The word lists demo listings are drawn from.

pub const FIRST_NAMES: &[&str] = &[
    "Maria", "James", "Aisha", "David", "Sofia", "Michael", "Priya", "Daniel", "Grace", "Carlos",
    "Emily", "Jamal", "Hannah", "Luis", "Olivia", "Kevin", "Mei", "Andre", "Rachel", "Omar",
    "Laura", "Marcus", "Fatima", "Brian", "Elena", "Tyrone", "Nora", "Samuel", "Leah", "Hiro",
    "Claire", "Diego", "Naomi", "Ethan", "Ana", "Isaac", "Zoe", "Kwame", "Megan", "Rafael",
    "Hailey", "Benjamin", "Chloe", "Victor", "Amara", "Julian", "Ruth", "Tomás", "Ingrid", "Malik",
];
pub const LAST_NAMES: &[&str] = &[
    "Garcia", "Johnson", "Khan", "Nguyen", "Smith", "Williams", "Patel", "Brown", "Lopez", "Kim",
    "Davis", "Martinez", "Okafor", "Wilson", "Cohen", "Anderson", "Chen", "Thomas", "Rivera",
    "Moore", "Shafir", "Jackson", "Haddad", "White", "Harris", "Sato", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Hill", "Green",
    "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Perez", "Roberts", "Turner", "Phillips",
    "Campbell", "Parker", "Evans",
];
/// (credentials, professional title, NUCC taxonomy code, license type)
pub const CREDENTIALS: &[(&str, &str, &str, &str)] = &[
    (
        "LPC",
        "Licensed Professional Counselor",
        "101YP2500X",
        "LPC",
    ),
    (
        "LCSW",
        "Licensed Clinical Social Worker",
        "1041C0700X",
        "LCSW",
    ),
    (
        "LMFT",
        "Licensed Marriage and Family Therapist",
        "106H00000X",
        "LMFT",
    ),
    (
        "PsyD",
        "Clinical Psychologist",
        "103TC0700X",
        "Psychologist",
    ),
    ("PhD", "Clinical Psychologist", "103TC0700X", "Psychologist"),
    (
        "LPCS, LCAS",
        "Licensed Professional Counselor Supervisor",
        "101YP2500X",
        "LPCS",
    ),
    (
        "LMHC",
        "Licensed Mental Health Counselor",
        "101YM0800X",
        "LMHC",
    ),
    (
        "LPCC",
        "Licensed Professional Clinical Counselor",
        "101YP2500X",
        "LPCC",
    ),
    (
        "LMFT, CST",
        "Marriage and Family Therapist, Certified Sex Therapist",
        "106H00000X",
        "LMFT",
    ),
    (
        "LCPC",
        "Licensed Clinical Professional Counselor",
        "101YP2500X",
        "LCPC",
    ),
];
pub const STREETS: &[&str] = &[
    "Main St",
    "Oak Ave",
    "Maple Dr",
    "Park Blvd",
    "Cedar Ln",
    "Elm St",
    "Washington Ave",
    "Lake Rd",
    "Hillcrest Dr",
    "Market St",
    "Church St",
    "Sunset Blvd",
    "River Rd",
    "Highland Ave",
    "Center St",
];
pub const OPENERS: &[&str] = &[
    "Therapy works best when you feel understood, and that is where we start.",
    "Reaching out takes courage; I am glad you are here.",
    "You do not have to carry this alone.",
    "Change is possible, even when it does not feel that way yet.",
    "I offer a warm, direct and collaborative space.",
];
pub const CLOSERS: &[&str] = &[
    "I offer a free 15-minute call so we can see whether we are a good fit.",
    "Together we will set goals that matter to you and review them as we go.",
    "Sessions are practical, and you will leave with something to try.",
    "I work with individuals and couples from every background and identity.",
    "My office is a judgement-free zone, and humour is welcome.",
];
