//! Pure rules of generation: the content item a finished job creates.

use serde_json::{Value, json};

use crate::model::{GenerationJob, JsonObject, NewContent};
use crate::ports::{Artifact, Output};
use crate::values::Tags;

/// How long a job waited and ran, for the content's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// Milliseconds from creation to the start of the successful attempt.
    pub queued_ms: i64,
    /// Milliseconds the successful attempt took.
    pub generation_ms: i64,
}

const STOPWORDS: &[&str] = &[
    "the", "and", "with", "from", "into", "that", "this", "there", "their", "about", "over", "under",
    "after", "before", "while", "where", "which", "would", "could", "should", "some", "very", "your", "make",
    "made", "like", "write", "draw", "paint", "create", "generate", "show", "story", "image", "picture",
    "photo", "video", "audio", "sound", "song", "please", "style", "kind", "just", "what", "when", "them",
    "they", "have", "been", "each",
];

/// A title from a prompt: its first line or sentence, whitespace collapsed, at most 80
/// characters (cut at a word, with `…`), first letter upper-case.
pub fn title_from_prompt(prompt: &str) -> String {
    let first = prompt.lines().find(|l| !l.trim().is_empty()).unwrap_or(prompt);
    let first = first.split_inclusive(['.', '!', '?']).next().unwrap_or(first);
    let words: Vec<&str> = first.split_whitespace().collect();
    let mut title = String::new();
    for word in words {
        if title.chars().count() + word.chars().count() + 1 > 80 {
            title.push('…');
            break;
        }
        if !title.is_empty() {
            title.push(' ');
        }
        title.push_str(word);
    }
    let title = title.trim_end_matches(['.', '!', '?', ',', ';', ':']).to_owned();
    let mut chars = title.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "Untitled".to_owned(),
    }
}

/// Up to five tags from a prompt: distinct lower-case words of four or more letters that are
/// not stopwords, in order of appearance.
pub fn tags_from_prompt(prompt: &str) -> Tags {
    let mut tags: Vec<String> = Vec::new();
    for word in prompt.split(|c: char| !c.is_alphanumeric() && c != '-') {
        let word = word.trim_matches('-').to_lowercase();
        if word.chars().count() >= 4
            && word.chars().any(char::is_alphabetic)
            && !STOPWORDS.contains(&word.as_str())
            && !tags.contains(&word)
        {
            tags.push(word);
        }
        if tags.len() == 5 {
            break;
        }
    }
    Tags::parse(tags).unwrap_or_default()
}

/// The content item a completed job creates: owned by the job's user, of the job's content
/// type, titled from the prompt, tagged from it, with metadata recording the job, the
/// generator, its parameters and the timings. `content_data` is the text or the media URL.
pub fn content_for(
    job: &GenerationJob,
    artifact: &Artifact,
    content_data: String,
    generator: &str,
    timings: Timings,
) -> NewContent {
    let mut metadata = JsonObject::new();
    metadata.insert("job_id".into(), json!(job.id.0));
    metadata.insert("generator".into(), json!(generator));
    metadata.insert("prompt".into(), json!(job.prompt));
    metadata.insert("parameters".into(), Value::Object(job.parameters.clone()));
    metadata.insert("attempt".into(), json!(job.attempts));
    metadata.insert(
        "timings".into(),
        json!({"queued_ms": timings.queued_ms, "generation_ms": timings.generation_ms}),
    );
    for (k, v) in &artifact.metadata {
        metadata.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if let Output::Media(file) = &artifact.output {
        metadata.insert("mime_type".into(), json!(file.mime));
        metadata.insert("size_bytes".into(), json!(file.bytes.len()));
    }
    let private = job
        .parameters
        .get("is_private")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    NewContent {
        title: title_from_prompt(&job.prompt),
        content_type: artifact.content_type,
        content_data,
        creator_id: job.user_id,
        item_metadata: metadata,
        tags: tags_from_prompt(&job.prompt),
        is_public: !private,
        is_private: private,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_come_from_the_first_sentence() {
        assert_eq!(
            title_from_prompt("a lighthouse at dusk. oil painting, warm light"),
            "A lighthouse at dusk"
        );
        assert_eq!(
            title_from_prompt("\n\n  many   spaces  here\nsecond line"),
            "Many spaces here"
        );
        let long = "word ".repeat(40);
        let title = title_from_prompt(&long);
        assert!(title.chars().count() <= 81 && title.ends_with('…'), "{title}");
        assert_eq!(title_from_prompt("   "), "Untitled");
    }

    #[test]
    fn tags_are_distinct_meaningful_words() {
        let tags = tags_from_prompt(
            "Paint a lighthouse at dusk: the lighthouse, waves and seagulls in oil-paint style",
        );
        assert_eq!(
            tags.as_slice(),
            ["lighthouse", "dusk", "waves", "seagulls", "oil-paint"]
        );
        assert!(tags_from_prompt("a b c").as_slice().is_empty());
    }
}
