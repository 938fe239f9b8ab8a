//! Value objects that validate themselves when constructed ("parse, don't validate").
//!
//! Each `parse` returns a typed error whose `Display` is the message clients are shown.

use std::fmt;

/// Why a string is not a valid [`Username`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    /// Fewer than [`Username::MIN_CHARS`] characters.
    #[error("String should have at least {min} characters")]
    TooShort {
        /// The minimum.
        min: usize,
    },
    /// More than [`Username::MAX_CHARS`] characters.
    #[error("String should have at most {max} characters")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// Contains characters other than letters, digits, `-` and `_` (or only `-`/`_`).
    #[error("Username can only contain letters, numbers, hyphens, and underscores")]
    Characters,
}

/// A username: 3–50 characters; after removing every `-` and `_` the rest is non-empty and made
/// only of Unicode letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Minimum length in characters.
    pub const MIN_CHARS: usize = 3;
    /// Maximum length in characters.
    pub const MAX_CHARS: usize = 50;

    /// Validates `raw` (kept as sent, not trimmed).
    pub fn parse(raw: &str) -> Result<Self, UsernameError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(UsernameError::TooShort { min: Self::MIN_CHARS });
        }
        if chars > Self::MAX_CHARS {
            return Err(UsernameError::TooLong { max: Self::MAX_CHARS });
        }
        let mut rest = raw.chars().filter(|c| *c != '-' && *c != '_').peekable();
        if rest.peek().is_none() || !rest.all(char::is_alphanumeric) {
            return Err(UsernameError::Characters);
        }
        Ok(Username(raw.to_owned()))
    }

    /// The username.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Takes the string out.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a string is not a valid [`Email`]; `Display` is the reason clients see.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EmailError(pub String);

/// A syntactically valid e-mail address, normalised: the domain is lower-cased, the local part
/// is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// Top-level names reserved for special use (RFC 6761 and friends) that cannot receive mail.
const SPECIAL_USE_TLDS: &[&str] = &["arpa", "invalid", "local", "localhost", "onion", "test"];
const LOCAL_ATOM_SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";

impl Email {
    /// Maximum length of the whole address.
    pub const MAX_LEN: usize = 254;

    /// Validates and normalises `raw`.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let err = |m: &str| Err(EmailError(m.to_owned()));
        let Some(at) = raw.rfind('@') else {
            return err("An email address must have an @-sign.");
        };
        let (local, domain) = (&raw[..at], &raw[at + 1..]);
        if local.is_empty() {
            return err("There must be something before the @-sign.");
        }
        if domain.is_empty() {
            return err("There must be something after the @-sign.");
        }
        let bad: Vec<char> = local
            .chars()
            .filter(|c| !(c.is_alphanumeric() || *c == '.' || LOCAL_ATOM_SPECIALS.contains(*c)))
            .collect();
        if !bad.is_empty() {
            let mut shown: Vec<String> = Vec::new();
            for c in bad {
                let s = if c == ' ' {
                    "SPACE".to_owned()
                } else {
                    format!("'{c}'")
                };
                if !shown.contains(&s) {
                    shown.push(s);
                }
            }
            return Err(EmailError(format!(
                "The email address contains invalid characters before the @-sign: {}.",
                shown.join(", ")
            )));
        }
        if local.starts_with('.') {
            return err("An email address cannot start with a period.");
        }
        if local.ends_with('.') {
            return err("An email address cannot have a period immediately before the @-sign.");
        }
        if local.contains("..") {
            return err("An email address cannot have two periods in a row.");
        }
        if local.chars().count() > 64 {
            return Err(EmailError(format!(
                "The email address is too long before the @-sign ({} characters too many).",
                local.chars().count() - 64
            )));
        }
        let domain = domain.to_lowercase();
        if !domain.contains('.') {
            return err("The part after the @-sign is not valid. It should have a period.");
        }
        if domain.starts_with('.') {
            return err("An email address cannot have a period immediately after the @-sign.");
        }
        if domain.ends_with('.') {
            return err("An email address cannot end with a period.");
        }
        if domain.contains("..") {
            return err("An email address cannot have two periods in a row.");
        }
        for label in domain.split('.') {
            if label.starts_with('-') || label.ends_with('-') {
                return err("An email address cannot have a hyphen immediately before or after a period.");
            }
            if label.chars().count() > 63 {
                return err("The part after the @-sign is not valid. A label is too long.");
            }
            if let Some(c) = label.chars().find(|c| !(c.is_alphanumeric() || *c == '-')) {
                return Err(EmailError(format!(
                    "The part after the @-sign contains invalid characters: '{c}'."
                )));
            }
        }
        let tld = domain.rsplit('.').next().unwrap_or_default();
        if tld.chars().all(|c| c.is_ascii_digit()) {
            return err("The part after the @-sign is not valid. It is not within a valid top-level domain.");
        }
        if SPECIAL_USE_TLDS.contains(&tld) {
            return err(
                "The part after the @-sign is a special-use or reserved name that cannot be used with email.",
            );
        }
        let normalised = format!("{local}@{domain}");
        if normalised.chars().count() > Self::MAX_LEN {
            return Err(EmailError(format!(
                "The email address is too long ({} characters too many).",
                normalised.chars().count() - Self::MAX_LEN
            )));
        }
        Ok(Email(normalised))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Takes the string out.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a tag list is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagsError {
    /// More than [`Tags::MAX`] distinct tags.
    #[error("Cannot have more than {max} tags")]
    TooMany {
        /// The maximum.
        max: usize,
    },
}

/// A normalised tag list: trimmed, blanks dropped, duplicates removed keeping the first
/// occurrence, at most [`Tags::MAX`] entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Maximum number of distinct tags.
    pub const MAX: usize = 20;

    /// Normalises `raw`.
    pub fn parse<I, S>(raw: I) -> Result<Self, TagsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut tags: Vec<String> = Vec::new();
        for tag in raw {
            let tag = tag.as_ref().trim();
            if !tag.is_empty() && !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
            }
        }
        if tags.len() > Self::MAX {
            return Err(TagsError::TooMany { max: Self::MAX });
        }
        Ok(Tags(tags))
    }

    /// The tags.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Takes the tags out.
    pub fn into_inner(self) -> Vec<String> {
        self.0
    }
}

/// A score in `[0, 1]` (recommendation scores, quality scores).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct UnitScore(f64);

impl UnitScore {
    /// Accepts finite values in `[0, 1]`.
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && (0.0..=1.0).contains(&value)).then_some(UnitScore(value))
    }

    /// Clamps any finite value into `[0, 1]` (NaN becomes 0).
    pub fn clamped(value: f64) -> Self {
        if value.is_nan() {
            UnitScore(0.0)
        } else {
            UnitScore(value.clamp(0.0, 1.0))
        }
    }

    /// The score.
    pub fn get(self) -> f64 {
        self.0
    }
}

/// Trims `raw` and returns it unless it is blank.
pub fn non_blank(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_contract_rule() {
        for ok in ["bob", "bob_1-x", "ünï", "a_b", "___a", "日本語"] {
            assert!(Username::parse(ok).is_ok(), "{ok} should be valid");
        }
        assert_eq!(Username::parse("ab"), Err(UsernameError::TooShort { min: 3 }));
        assert_eq!(
            Username::parse(&"a".repeat(51)),
            Err(UsernameError::TooLong { max: 50 })
        );
        for bad in ["a b", "a.b", "---", "bob!", "___"] {
            assert_eq!(Username::parse(bad), Err(UsernameError::Characters), "{bad}");
        }
    }

    #[test]
    fn emails_are_validated_and_the_domain_is_lower_cased() {
        assert_eq!(
            Email::parse("Dave.X@EXAMPLE.COM").map(Email::into_inner),
            Ok("Dave.X@example.com".into())
        );
        assert_eq!(
            Email::parse("nope").unwrap_err().0,
            "An email address must have an @-sign."
        );
        assert_eq!(
            Email::parse("a@localhost").unwrap_err().0,
            "The part after the @-sign is not valid. It should have a period."
        );
        assert!(
            Email::parse("a@mail.test")
                .unwrap_err()
                .0
                .contains("special-use or reserved")
        );
        assert!(Email::parse("Bob <bob@example.com>").is_err());
        assert!(Email::parse("\"quoted\"@example.com").is_err());
        assert!(Email::parse("a..b@example.com").is_err());
        assert!(Email::parse("a@-x.com").is_err());
        assert!(Email::parse("a@example.123").is_err());
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(Email::parse("user+tag@sub.example.org").is_ok());
    }

    #[test]
    fn tags_are_trimmed_deduplicated_in_order_and_bounded() {
        let tags = Tags::parse([" b ", "a", "", "b", "  ", "c"]).unwrap();
        assert_eq!(tags.as_slice(), ["b", "a", "c"]);
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(Tags::parse(&many), Err(TagsError::TooMany { max: 20 }));
        let dupes: Vec<String> = (0..30).map(|i| format!("t{}", i % 20)).collect();
        assert_eq!(Tags::parse(&dupes).unwrap().as_slice().len(), 20);
    }

    #[test]
    fn unit_scores_are_bounded() {
        assert!(UnitScore::new(0.0).is_some());
        assert!(UnitScore::new(1.0).is_some());
        assert!(UnitScore::new(1.01).is_none());
        assert!(UnitScore::new(f64::NAN).is_none());
        assert_eq!(UnitScore::clamped(7.0).get(), 1.0);
    }

    #[test]
    fn non_blank_trims() {
        assert_eq!(non_blank("  hi "), Some("hi".into()));
        assert_eq!(non_blank(" \t\n"), None);
    }
}
