//! Rating data sets in the common public layouts, parsed into a [`Dataset`] that the seeding
//! code loads like a generated one (`genonaut seed --import DIR`):
//!
//! * **MovieLens CSV** (`ml-latest`, `ml-25m`, …): `ratings.csv` (`userId,movieId,rating,timestamp`,
//!   half-star ratings allowed) and `movies.csv` (`movieId,title,genres`, titles quoted when they
//!   hold commas, genres `|`-separated);
//! * **MovieLens 100k**: `u.data` (`user id \t item id \t rating \t timestamp`) and `u.item`
//!   (`id|title|release date|video release date|URL|` then 19 genre flags, Latin-1).
//!
//! Every rater becomes a user (`ml_<id>`), every movie a listed `video` item (title, genres as
//! tags and the first one as `item_metadata.genre`, the source id in `item_metadata.source_id`)
//! created by one extra user, `ml_catalogue` (so no rater owns an item), and every rating a
//! `rate` interaction with its original timestamp and the rating rounded to 1–5. Pure parsing:
//! the caller reads the files.

use std::collections::HashMap;

use chrono::DateTime;
use serde_json::json;

use crate::model::{ContentType, InteractionType, JsonObject, Timestamp};
use crate::synthetic::{Dataset, SeedInteraction, SeedItem, SeedUser};

/// The genres of MovieLens 100k, in the order of `u.item`'s flags.
pub const ML100K_GENRES: [&str; 19] = [
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
];

/// A line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file} line {line}: {message}")]
pub struct ImportError {
    /// The file.
    pub file: &'static str,
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn error(file: &'static str, line: usize, message: impl Into<String>) -> ImportError {
    ImportError {
        file,
        line,
        message: message.into(),
    }
}

/// A movie before it becomes an item.
struct Movie {
    id: i64,
    line: usize,
    title: String,
    genres: Vec<String>,
}

/// A rating before it becomes an interaction.
struct Rating {
    user: i64,
    movie: i64,
    rating: f64,
    at: i64,
    line: usize,
}

/// Parses `ratings.csv` and `movies.csv`.
pub fn movielens_csv(ratings: &str, movies: &str) -> Result<Dataset, ImportError> {
    let mut list = Vec::new();
    for (n, line) in lines(movies) {
        if n == 1 && line.starts_with("movieId") {
            continue;
        }
        let fields = csv_fields(line).map_err(|m| error("movies.csv", n, m))?;
        let [id, title, genres] = fields.as_slice() else {
            return Err(error("movies.csv", n, "expected movieId,title,genres"));
        };
        list.push(Movie {
            line: n,
            id: number(id)
                .ok_or_else(|| error("movies.csv", n, format!("movieId {id:?} is not a number")))?,
            title: title.clone(),
            genres: genres
                .split('|')
                .filter(|g| !g.is_empty() && *g != "(no genres listed)")
                .map(str::to_owned)
                .collect(),
        });
    }
    let mut rates = Vec::new();
    for (n, line) in lines(ratings) {
        if n == 1 && line.starts_with("userId") {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        rates.push(rating(&fields, "ratings.csv", n)?);
    }
    assemble(list, rates, ("ratings.csv", "movies.csv"))
}

/// Parses MovieLens 100k's `u.data` and `u.item` (`u.item` as text: decode Latin-1 first,
/// see [`latin1`]).
pub fn movielens_100k(data: &str, items: &str) -> Result<Dataset, ImportError> {
    let mut list = Vec::new();
    for (n, line) in lines(items) {
        let fields: Vec<&str> = line.split('|').collect();
        if fields.len() < 5 {
            return Err(error(
                "u.item",
                n,
                "expected id|title|release date|video release|URL|genre flags",
            ));
        }
        let flags = &fields[5..];
        list.push(Movie {
            line: n,
            id: number(fields[0])
                .ok_or_else(|| error("u.item", n, format!("id {:?} is not a number", fields[0])))?,
            title: fields[1].trim().to_owned(),
            genres: flags
                .iter()
                .zip(ML100K_GENRES)
                .filter(|(flag, genre)| flag.trim() == "1" && *genre != "unknown")
                .map(|(_, genre)| genre.to_owned())
                .collect(),
        });
    }
    let mut rates = Vec::new();
    for (n, line) in lines(data) {
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        rates.push(rating(&fields, "u.data", n)?);
    }
    assemble(list, rates, ("u.data", "u.item"))
}

/// Decodes Latin-1 (every byte is the code point of the same value): `u.item` is not UTF-8.
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

/// Non-blank lines with their 1-based numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(n, l)| (n + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
}

fn number(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

fn rating(fields: &[&str], file: &'static str, n: usize) -> Result<Rating, ImportError> {
    let [user, movie, rating, at] = fields else {
        return Err(error(file, n, "expected user, item, rating, timestamp"));
    };
    let rating: f64 = rating
        .parse()
        .ok()
        .filter(|r: &f64| (0.0..=5.0).contains(r))
        .ok_or_else(|| error(file, n, format!("rating {rating:?} is not a number from 0 to 5")))?;
    Ok(Rating {
        user: number(user).ok_or_else(|| error(file, n, format!("user id {user:?} is not a number")))?,
        movie: number(movie).ok_or_else(|| error(file, n, format!("item id {movie:?} is not a number")))?,
        rating,
        line: n,
        at: number(at)
            .filter(|t| DateTime::from_timestamp(*t, 0).is_some())
            .ok_or_else(|| error(file, n, format!("timestamp {at:?} is not Unix seconds")))?,
    })
}

/// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if at_start => quoted = true,
            ',' if !quoted => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
                continue;
            }
            c => field.push(c),
        }
        at_start = false;
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(field);
    Ok(fields)
}

fn tag(genre: &str) -> String {
    genre
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| *c != '\'')
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect()
}

fn at(seconds: i64) -> Timestamp {
    DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .naive_utc()
}

fn object(v: serde_json::Value) -> JsonObject {
    match v {
        serde_json::Value::Object(m) => m,
        _ => JsonObject::new(),
    }
}

fn assemble(
    mut movies: Vec<Movie>,
    mut ratings: Vec<Rating>,
    (file, items_file): (&'static str, &'static str),
) -> Result<Dataset, ImportError> {
    movies.sort_by_key(|m| m.id);
    if let Some(w) = movies.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(error(
            items_file,
            w[1].line,
            format!("item {} is listed twice", w[0].id),
        ));
    }
    let first = ratings.iter().map(|r| r.at).min().unwrap_or(0);
    // Users: the catalogue's creator first, then raters by id.
    let mut rater_ids: Vec<i64> = ratings.iter().map(|r| r.user).collect();
    rater_ids.sort_unstable();
    rater_ids.dedup();
    let user_index: HashMap<i64, usize> = rater_ids.iter().enumerate().map(|(n, id)| (*id, n + 1)).collect();
    let mut first_seen: HashMap<i64, i64> = HashMap::new();
    for r in &ratings {
        let t = first_seen.entry(r.user).or_insert(r.at);
        *t = (*t).min(r.at);
    }
    let mut users = vec![SeedUser {
        username: "ml_catalogue".into(),
        email: "ml_catalogue@example.com".into(),
        preferences: JsonObject::new(),
        created_at: at(first),
        is_active: true,
        tastes: Vec::new(),
    }];
    users.extend(rater_ids.iter().map(|id| SeedUser {
        username: format!("ml_{id}"),
        email: format!("ml_{id}@example.com"),
        preferences: JsonObject::new(),
        created_at: at(first_seen[id]),
        is_active: true,
        tastes: Vec::new(),
    }));
    let item_index: HashMap<i64, usize> = movies.iter().enumerate().map(|(n, m)| (m.id, n)).collect();
    let items = movies
        .into_iter()
        .map(|m| {
            let tags: Vec<String> = m.genres.iter().map(|g| tag(g)).collect();
            let title: String = if m.title.trim().is_empty() {
                format!("Movie {}", m.id)
            } else {
                m.title.chars().take(255).collect()
            };
            SeedItem {
                content_data: format!("MovieLens movie {}", m.id),
                item_metadata: object(json!({
                    "genre": tags.first(),
                    "genres": m.genres,
                    "source": "movielens",
                    "source_id": m.id,
                })),
                title,
                content_type: ContentType::Video,
                creator: 0,
                created_at: at(first),
                tags: tags.into_iter().take(crate::values::Tags::MAX).collect(),
                quality_score: 0.5,
                is_public: true,
                is_private: false,
                theme: 0,
            }
        })
        .collect();
    ratings.sort_by_key(|r| r.at);
    let interactions = ratings
        .iter()
        .map(|r| {
            let item = *item_index.get(&r.movie).ok_or_else(|| {
                error(
                    file,
                    r.line,
                    format!("item {} is rated but not in {items_file}", r.movie),
                )
            })?;
            Ok(SeedInteraction {
                user: user_index[&r.user],
                item,
                interaction_type: InteractionType::Rate,
                rating: Some((r.rating.round() as i32).clamp(1, 5)),
                duration: None,
                created_at: at(r.at),
                metadata: object(json!({"source": "import"})),
            })
        })
        .collect::<Result<Vec<_>, ImportError>>()?;
    Ok(Dataset {
        users,
        items,
        interactions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOVIES: &str = "movieId,title,genres\n\
        1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n\
        11,\"American President, The (1995)\",Comedy|Drama|Romance\n\
        20,\"The \"\"Quoted\"\" One (2001)\",(no genres listed)\n";
    const RATINGS: &str = "userId,movieId,rating,timestamp\n\
        7,11,4.5,964982703\n\
        3,1,0.5,964981247\n\
        7,1,3.0,964982224\n";

    #[test]
    fn movielens_csv_becomes_users_items_and_rate_interactions() {
        let data = movielens_csv(RATINGS, MOVIES).unwrap();
        let names: Vec<&str> = data.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["ml_catalogue", "ml_3", "ml_7"]);
        assert_eq!(data.items.len(), 3);
        assert_eq!(data.items[1].title, "American President, The (1995)");
        assert_eq!(data.items[1].tags, ["comedy", "drama", "romance"]);
        assert_eq!(data.items[2].title, "The \"Quoted\" One (2001)");
        assert!(data.items[2].tags.is_empty());
        assert!(
            data.items
                .iter()
                .all(|i| i.creator == 0 && i.is_public && !i.is_private)
        );
        assert_eq!(data.items[0].item_metadata["genre"], "adventure");
        assert_eq!(data.items[0].item_metadata["source_id"], 1);
        // Oldest first, ratings rounded into 1–5, original timestamps.
        let got: Vec<(usize, usize, Option<i32>, i64)> = data
            .interactions
            .iter()
            .map(|i| (i.user, i.item, i.rating, i.created_at.and_utc().timestamp()))
            .collect();
        assert_eq!(
            got,
            [
                (1, 0, Some(1), 964_981_247),
                (2, 0, Some(3), 964_982_224),
                (2, 1, Some(5), 964_982_703)
            ]
        );
        assert!(
            data.interactions
                .iter()
                .all(|i| i.interaction_type == InteractionType::Rate)
        );
    }

    #[test]
    fn movielens_100k_reads_tabs_pipes_genre_flags_and_latin1() {
        let flags = |on: &[usize]| {
            (0..19)
                .map(|g| if on.contains(&g) { "1" } else { "0" })
                .collect::<Vec<_>>()
                .join("|")
        };
        let items = format!(
            "1|Toy Story (1995)|01-Jan-1995||http://example.com|{}\n2|Caf\u{e9} Society (1995)|01-Jan-1995||http://example.com|{}\n",
            flags(&[3, 4, 5]),
            flags(&[8])
        );
        let latin: Vec<u8> = items.chars().map(|c| c as u32 as u8).collect();
        let data = movielens_100k(
            "196\t2\t3\t881250949\n186\t1\t5\t891717742\n196\t1\t1\t881250950\n",
            &latin1(&latin),
        )
        .unwrap();
        assert_eq!(data.users.len(), 3);
        assert_eq!(data.items[0].tags, ["animation", "childrens", "comedy"]);
        assert_eq!(data.items[1].title, "Caf\u{e9} Society (1995)");
        assert_eq!(data.items[1].tags, ["drama"]);
        assert_eq!(data.interactions.len(), 3);
        assert_eq!(data.interactions[0].created_at.and_utc().timestamp(), 881_250_949);
        assert_eq!(data.interactions[2].rating, Some(5));
    }

    #[test]
    fn bad_lines_are_named() {
        let e = movielens_csv("userId,movieId,rating,timestamp\n1,1,four,5\n", MOVIES).unwrap_err();
        assert_eq!((e.file, e.line), ("ratings.csv", 2), "{e}");
        assert!(e.to_string().contains("rating \"four\""), "{e}");
        let e = movielens_csv("userId,movieId,rating,timestamp\n1,99,4,5\n", MOVIES).unwrap_err();
        assert_eq!(
            e.to_string(),
            "ratings.csv line 2: item 99 is rated but not in movies.csv"
        );
        let e = movielens_100k("1\t1\t4\n", "1|A|x||u|0\n").unwrap_err();
        assert_eq!((e.file, e.line), ("u.data", 1), "{e}");
        let e = movielens_csv("", "movieId,title,genres\n1,\"open,x\n").unwrap_err();
        assert_eq!((e.file, e.line), ("movies.csv", 2), "{e}");
    }
}
