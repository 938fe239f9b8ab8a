//! Prompt-conditioned text: stories, poems and recipes built from the prompt's own words.

use genonaut_domain::model::JsonObject;
use genonaut_domain::ports::GenerationError;
use genonaut_domain::synthetic::Rng;
use serde_json::json;

use super::{Steps, keywords};

const STOP: &[&str] = &[
    "the", "and", "with", "for", "that", "this", "from", "into", "about", "write", "tell", "make", "create",
    "story", "poem", "haiku", "short", "long", "please", "some", "who", "what", "where", "when", "how",
    "our", "your", "their",
];
const NAMES: &[&str] = &[
    "Mara", "Ilya", "Noor", "Teo", "Ines", "Oskar", "Lena", "Ravi", "Yuki", "Sol",
];
const PLACES: &[&str] = &[
    "the harbour town",
    "the old observatory",
    "a valley of wind",
    "the night market",
    "the glass city",
    "a lighthouse at the edge of the map",
];
const ADJECTIVES: &[&str] = &[
    "quiet",
    "luminous",
    "forgotten",
    "restless",
    "silver",
    "impossible",
    "patient",
    "wild",
    "distant",
    "gentle",
];
const TIMES: &[&str] = &[
    "At dawn",
    "Long after midnight",
    "In the first week of winter",
    "When the tide turned",
    "Years later",
    "That evening",
];

fn subjects(prompt: &str) -> Vec<String> {
    let words: Vec<String> = keywords(prompt)
        .into_iter()
        .filter(|w| !STOP.contains(&w.as_str()))
        .collect();
    if words.is_empty() {
        vec!["journey".into(), "silence".into(), "home".into()]
    } else {
        words
    }
}

fn paragraph(rng: &mut Rng, hero: &str, words: &[String], index: u32) -> String {
    let w = |rng: &mut Rng| rng.pick(words).clone();
    let templates: [&dyn Fn(&mut Rng) -> String; 8] = [
        &|rng| {
            format!(
                "{} {} found the {} {} where no one had thought to look.",
                rng.pick(TIMES),
                hero,
                rng.pick(ADJECTIVES),
                w(rng)
            )
        },
        &|rng| {
            format!(
                "Everyone in {} had an opinion about the {}, but only {} knew what it cost.",
                rng.pick(PLACES),
                w(rng),
                hero
            )
        },
        &|rng| {
            format!(
                "\"The {} is not what it seems,\" {} said, turning the {} over in the lamplight.",
                w(rng),
                rng.pick(NAMES),
                w(rng)
            )
        },
        &|rng| {
            format!(
                "It smelled of {} and rain, and somewhere beneath it lay the memory of {}.",
                w(rng),
                w(rng)
            )
        },
        &|rng| {
            format!(
                "{} followed the {} {} until the road ran out.",
                hero,
                rng.pick(ADJECTIVES),
                w(rng)
            )
        },
        &|rng| {
            format!(
                "Nothing about the {} was {} anymore; even the {} had changed.",
                w(rng),
                rng.pick(ADJECTIVES),
                w(rng)
            )
        },
        &|rng| format!("{} wrote one word in the margin of the map: {}.", hero, w(rng)),
        &|rng| {
            format!(
                "And so the {} and the {} learned, slowly, to share {}.",
                w(rng),
                w(rng),
                rng.pick(PLACES)
            )
        },
    ];
    let sentences = 3 + rng.below(3);
    let mut text = String::new();
    for s in 0..sentences {
        let template = templates[(rng.below(templates.len()) + s + index as usize) % templates.len()];
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(&template(rng));
    }
    text
}

fn poem_line(rng: &mut Rng, words: &[String]) -> String {
    let w = rng.pick(words).clone();
    match rng.below(5) {
        0 => format!(
            "{} {}, {} and slow,",
            capitalise(rng.pick::<&str>(ADJECTIVES)),
            w,
            rng.pick(ADJECTIVES)
        ),
        1 => format!("the {} remembers what we could not say", w),
        2 => format!("under a {} sky the {} waits", rng.pick(ADJECTIVES), w),
        3 => format!("and every {} returns to {}", w, rng.pick(words)),
        _ => format!("{} — {} — {}", w, rng.pick(words), rng.pick(ADJECTIVES)),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Writes `parts` paragraphs (or stanzas) conditioned on the prompt, reporting one step each.
pub(crate) async fn write(
    prompt: &str,
    parts: u32,
    rng: &mut Rng,
    steps: &Steps<'_>,
) -> Result<(String, JsonObject), GenerationError> {
    let words = subjects(prompt);
    let lower = prompt.to_lowercase();
    let form = if lower.contains("haiku") {
        "haiku"
    } else if lower.contains("poem") || lower.contains("verse") || lower.contains("sonnet") {
        "poem"
    } else if lower.contains("recipe") {
        "recipe"
    } else {
        "story"
    };
    let hero = *rng.pick(NAMES);
    let mut out = format!(
        "{}\n\n",
        capitalise(&words.iter().take(3).cloned().collect::<Vec<_>>().join(" and "))
    );
    let parts = if form == "haiku" { 1 } else { parts };
    for i in 1..=parts {
        let part = match form {
            "haiku" => format!(
                "{}\n{}\n{}",
                poem_line(rng, &words),
                poem_line(rng, &words),
                rng.pick(&words)
            ),
            "poem" => (0..4)
                .map(|_| poem_line(rng, &words))
                .collect::<Vec<_>>()
                .join("\n"),
            "recipe" => format!(
                "Step {i}. Take the {} and {} it with {} care, adding a little {}.",
                rng.pick(&words),
                rng.pick(&["fold", "simmer", "whisk", "roast", "rest"]),
                rng.pick(ADJECTIVES),
                rng.pick(&words)
            ),
            _ => paragraph(rng, hero, &words, i),
        };
        out.push_str(&part);
        out.push_str("\n\n");
        steps.done(i, format!("{form} part {i} of {parts}")).await?;
    }
    let text = out.trim_end().to_owned();
    let word_count = text.split_whitespace().count();
    let metadata =
        json!({"form": form, "word_count": word_count, "keywords": words.iter().take(8).collect::<Vec<_>>()});
    Ok((text, metadata.as_object().cloned().unwrap_or_default()))
}
