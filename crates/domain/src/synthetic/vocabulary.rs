//! The words the generator builds titles, tags and names from: themes with their own
//! vocabulary, adjectives, tags shared by every theme, first names.

use crate::model::ContentType;

pub(super) struct Theme {
    pub(super) name: &'static str,
    pub(super) tags: &'static [&'static str],
    pub(super) types: &'static [ContentType],
    pub(super) nouns: &'static [&'static str],
}

use ContentType::{Audio, Image, Text, Video};

pub(super) const THEMES: &[Theme] = &[
    Theme {
        name: "space opera",
        tags: &["sci-fi", "space", "future", "ai", "galaxy"],
        types: &[Text, Image, Video],
        nouns: &["Nebula", "Starship", "Orbit", "Colony", "Comet"],
    },
    Theme {
        name: "cyberpunk",
        tags: &["cyberpunk", "neon", "city", "night", "hacker"],
        types: &[Image, Video, Text],
        nouns: &["Neon", "Grid", "Circuit", "Alley", "Signal"],
    },
    Theme {
        name: "high fantasy",
        tags: &["fantasy", "dragons", "magic", "mythology", "quest"],
        types: &[Text, Image],
        nouns: &["Dragon", "Citadel", "Rune", "Oracle", "Forest"],
    },
    Theme {
        name: "cosmic horror",
        tags: &["horror", "mystery", "dark", "occult", "abyss"],
        types: &[Text, Audio],
        nouns: &["Whisper", "Abyss", "Ritual", "Shadow", "Tide"],
    },
    Theme {
        name: "nature",
        tags: &["nature", "landscape", "mountains", "ocean", "animals"],
        types: &[Image, Video],
        nouns: &["Glacier", "Meadow", "Reef", "Summit", "Canyon"],
    },
    Theme {
        name: "portraiture",
        tags: &["portrait", "photography", "studio", "faces", "light"],
        types: &[Image],
        nouns: &["Portrait", "Gaze", "Profile", "Silhouette", "Smile"],
    },
    Theme {
        name: "jazz",
        tags: &["jazz", "music", "saxophone", "swing", "blues"],
        types: &[Audio, Video],
        nouns: &["Session", "Groove", "Ballad", "Riff", "Standard"],
    },
    Theme {
        name: "ambient",
        tags: &["ambient", "music", "calm", "drone", "sleep"],
        types: &[Audio],
        nouns: &["Drift", "Haze", "Stillness", "Horizon", "Bloom"],
    },
    Theme {
        name: "comedy",
        tags: &["comedy", "satire", "short_story", "absurd", "parody"],
        types: &[Text, Video],
        nouns: &["Mishap", "Caper", "Blunder", "Farce", "Gag"],
    },
    Theme {
        name: "history",
        tags: &["history", "documentary", "war", "ancient", "empire"],
        types: &[Text, Video],
        nouns: &["Empire", "Chronicle", "Siege", "Dynasty", "Treaty"],
    },
    Theme {
        name: "cooking",
        tags: &["cooking", "recipes", "food", "baking", "tutorial"],
        types: &[Video, Text, Image],
        nouns: &["Recipe", "Feast", "Loaf", "Broth", "Tart"],
    },
    Theme {
        name: "retro gaming",
        tags: &["gaming", "retro", "pixel_art", "arcade", "8bit"],
        types: &[Image, Video, Audio],
        nouns: &["Arcade", "Pixel", "Boss", "Level", "Cartridge"],
    },
];

pub(super) const ADJECTIVES: &[&str] = &[
    "Silent",
    "Golden",
    "Forgotten",
    "Electric",
    "Crimson",
    "Hidden",
    "Endless",
    "Broken",
    "Velvet",
    "Frozen",
    "Wandering",
    "Luminous",
    "Distant",
    "Wild",
    "Quiet",
    "Burning",
    "Paper",
    "Iron",
    "Hollow",
    "Bright",
];

pub(super) const GLOBAL_TAGS: &[&str] = &[
    "minimalist",
    "surreal",
    "abstract",
    "retro",
    "digital_art",
    "noir",
    "poetry",
    "winter",
    "summer",
];

pub(super) const FIRST_NAMES: &[&str] = &[
    "ada", "bruno", "chen", "dara", "emil", "farah", "gus", "hana", "ivo", "jules", "kira", "leon", "mei",
    "nico", "olga", "pablo", "quinn", "rosa", "sami", "tove", "uma", "vik", "wren", "xia", "yuri", "zoe",
];
