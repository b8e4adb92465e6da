#!/usr/bin/env python3
"""Writes the request lists of the search benchmark, one TSV per class
(`class<TAB>GET<TAB>path`), from a random sample of the loaded directory.

    python3 bench/search_urls.py OUT_DIR SEED  (reads the database through `psql`, with
                                                the PG* variables bench/lib.sh sets)

Every list holds hundreds of distinct URLs drawn at random: ZIP codes of random offices,
radii from 10 to 80 km, taxonomy terms, common and rare words, typos, names; facets on a
third of the searches. None is a URL the code was tuned against.
"""
import os
import random
import subprocess
import sys
import urllib.parse

STATE_NAMES = {
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut",
    "delaware", "district of columbia", "florida", "georgia", "hawaii", "idaho", "illinois",
    "indiana", "iowa", "kansas", "kentucky", "louisiana", "maine", "maryland",
    "massachusetts", "michigan", "minnesota", "mississippi", "missouri", "montana",
    "nebraska", "nevada", "new hampshire", "new jersey", "new mexico", "new york",
    "north carolina", "north dakota", "ohio", "oklahoma", "oregon", "pennsylvania",
    "rhode island", "south carolina", "south dakota", "tennessee", "texas", "utah",
    "vermont", "virginia", "washington", "west virginia", "wisconsin", "wyoming",
    "puerto rico", "guam", "virgin islands", "american samoa", "northern mariana islands",
}

FACETS = "facets=modality,specialty,insurer,delivery,session_format"
N = 400


def sql(query):
    out = subprocess.run(
        ["psql", "-qAt", "-F", "\t", "-c", query], check=True, capture_output=True, text=True
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def main():
    out, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    os.makedirs(out, exist_ok=True)
    zips = [r[0] for r in sql("select zip from office tablesample system (2) limit 2000")]
    modalities = [r[0] for r in sql("select slug from modality where retired_at is null")]
    specialties = [r[0] for r in sql("select slug from specialty where retired_at is null")]
    insurers = [r[0] for r in sql("select slug from insurer where retired_at is null")]
    sample = sql(
        "select display_name, states[1], slug from directory_entry tablesample system (1) limit 2000"
    )
    words = sql(
        "select w from (select distinct lower(w) as w from directory_entry tablesample system (0.5),"
        " regexp_split_to_table(statement, '[^[:alpha:]]+') w) x where length(w) >= 6 limit 3000"
    )
    words = [w[0] for w in words]
    # Places as people name them: an office's city with its state, a bare city, a state.
    offices = sql(
        "select city, state::text, latitude, longitude from office tablesample system (2) limit 2000"
    )
    states = ["Texas", "California", "New York", "Florida", "Ohio", "Georgia", "NC", "WA", "IL", "PA"]
    insurer_names = [r[0] for r in sql("select name from insurer where retired_at is null")]
    modality_names = [r[0] for r in sql("select name from modality where retired_at is null")]
    specialty_names = [r[0] for r in sql("select name from specialty where retired_at is null")]
    common = ["anxiety", "depression", "couples", "trauma", "spanish", "online", "teen",
              "grief", "family", "emdr", "cbt", "christian", "veterans", "workshop"]
    typos = ["anxeity", "depresion", "coupels", "truama", "spansh", "adolesent", "grif",
             "gottmann", "insomina", "familly", "mindfullness", "relatinship", "addicton",
             "parentng", "bipolr", "trauama", "emdrr", "christain", "vetrans", "worksop"]

    def facets():
        return "&" + FACETS if rng.random() < 1 / 3 else ""

    def q(text):
        return urllib.parse.quote_plus(text)

    def write(name, urls):
        with open(os.path.join(out, name + ".tsv"), "w") as f:
            for url in urls:
                f.write(f"{name}\tGET\t{url}\n")

    write("radius_modality_accepting", [
        f"/v1/therapists?near={rng.choice(zips)}&radius_km={rng.randint(10, 80)}"
        f"&modality={rng.choice(modalities)}&accepting=true{facets()}" for _ in range(N)])
    write("common_word", [
        f"/v1/therapists?q={rng.choice(common)}&limit={rng.randint(10, 50)}{facets()}"
        for _ in range(N)])
    write("rare_word_state", [
        f"/v1/therapists?q={q(rng.choice(words) + ' ' + rng.choice(words))}&state={s[1] or 'NY'}{facets()}"
        for s in (rng.choice(sample) for _ in range(N))])
    write("typo_word", [
        f"/v1/therapists?q={q(rng.choice(typos) + ('' if rng.random() < 0.5 else ' ' + rng.choice(common)))}{facets()}"
        for _ in range(N)])
    write("name", [f"/v1/therapists?q={q(s[0])}{facets()}" for s in rng.sample(sample, min(N, len(sample)))])
    write("insurer_fee_video_language", [
        f"/v1/therapists?insurer={rng.choice(insurers)}&max_fee_cents={rng.randint(6, 25) * 1000}"
        f"&delivery=video&language={'es' if rng.random() < 0.25 else 'en'}{facets()}" for _ in range(N)])
    write("radius_specialty_5_facets", [
        f"/v1/therapists?near={rng.choice(zips)}&radius_km={rng.randint(10, 80)}"
        f"&specialty={rng.choice(specialties)}&{FACETS}" for _ in range(N)])
    write("nationwide_modality_facets", [
        f"/v1/therapists?modality={rng.choice(modalities)}&sort={rng.choice(['recently_confirmed', 'fee'])}&{FACETS}"
        for _ in range(N)])
    def place():
        city, state, _, _ = rng.choice(offices)
        r = rng.random()
        if r < 0.6:
            return f"{city}, {state}"
        if r < 0.75:
            return f"{city} {state}"
        if r < 0.9:
            return city
        return rng.choice(states)

    def near_place():
        name = place()
        # A bare city named like a state (Washington, Nevada) is the state: no radius.
        whole_state = len(name) <= 2 or name in states or name.lower() in STATE_NAMES
        radius = "" if whole_state else f"&radius_km={rng.randint(10, 80)}"
        return f"near={q(name)}{radius}"

    write("place_name", [f"/v1/therapists?{near_place()}{facets()}" for _ in range(N)])

    def bbox():
        _, _, lat, lng = rng.choice(offices)
        width, height = rng.uniform(0.05, 3.0), rng.uniform(0.05, 2.0)
        lat, lng = float(lat), float(lng)
        return (f"{lng - width / 2:.4f},{max(lat - height / 2, -90):.4f},"
                f"{lng + width / 2:.4f},{min(lat + height / 2, 90):.4f}")

    write("bbox_map", [f"/v1/therapists?bbox={bbox()}{facets()}" for _ in range(N)])

    def sentence():
        topic = rng.choice([rng.choice(common), rng.choice(specialty_names).lower(),
                            rng.choice(modality_names).split(" (")[0].lower()])
        city, state, _, _ = rng.choice(offices)
        parts = [topic, "therapist" if rng.random() < 0.5 else "",
                 f"in {city}" if rng.random() < 0.6 else f"near {city} {state}"]
        extra = rng.random()
        if extra < 0.3:
            parts.append(f"that takes {rng.choice(insurer_names).lower()}")
        elif extra < 0.45:
            parts.append("spanish speaking")
        elif extra < 0.6:
            parts.append("sliding scale")
        elif extra < 0.7:
            parts = ["online"] + parts[:2]
        return " ".join(p for p in parts if p)

    write("sentence", [f"/v1/therapists?q={q(sentence())}{facets()}" for _ in range(N)])

    def prefix():
        source = rng.choice([
            rng.choice(offices)[0], rng.choice(specialty_names), rng.choice(modality_names),
            rng.choice(sample)[0], rng.choice(insurer_names), rng.choice(common),
        ])
        typed = source[: rng.randint(1, 6)]
        return q(typed if typed.strip() else source[:3])

    write("suggest", [f"/v1/suggest?q={prefix()}" for _ in range(N)])
    write("profile_by_slug", [f"/v1/therapists/{s[2]}" for s in rng.sample(sample, min(N, len(sample)))])
    # Seeds for the cursor walk (`search.sh` follows each for five pages).
    with open(os.path.join(out, "walk_seeds.txt"), "w") as f:
        for _ in range(60):
            f.write(f"/v1/therapists?near={rng.choice(zips)}&radius_km={rng.randint(10, 80)}&sort=distance&limit=10\n")


if __name__ == "__main__":
    main()
