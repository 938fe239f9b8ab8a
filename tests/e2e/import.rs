//! `genonaut seed --import DIR` on small files in the two public MovieLens layouts (written
//! here; no third-party data), then the offline evaluation over what was loaded.

use std::fmt::Write as _;
use std::path::PathBuf;

use genonaut::recs::{self, EvalOptions};
use genonaut_domain::recommender::eval::Split;
use genonaut_tests::TestApp;
use serde_json::json;

/// A folder under the OS temp dir (the test creates it), removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        Dir(std::env::temp_dir().join(format!("genonaut-import-{name}-{}", std::process::id())))
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 30 raters, 40 movies: rater `u` rates the 12 movies `u, u+1, …` (mod 40), one day apart.
fn ratings() -> Vec<(u32, u32, f64, i64)> {
    let mut out = Vec::new();
    for u in 1..=30u32 {
        for j in 0..12u32 {
            let movie = (u + j) % 40 + 1;
            let rating = f64::from(1 + (u + j) % 5) - if j % 3 == 0 { 0.5 } else { 0.0 };
            out.push((
                u,
                movie,
                rating.max(0.5),
                1_300_000_000 + i64::from(u * 1_000 + j) * 86_400,
            ));
        }
    }
    out
}

#[actix_web::test]
async fn a_movielens_csv_folder_is_imported_and_evaluated() {
    let app = TestApp::spawn().await;
    let dir = Dir::new("csv");
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut movies = String::from("movieId,title,genres\n");
    for m in 1..=40 {
        let genres = ["Drama", "Comedy|Romance", "Sci-Fi|Thriller", "(no genres listed)"][m % 4];
        writeln!(movies, "{m},\"Movie {m}, the sequel ({})\",{genres}", 1990 + m).unwrap();
    }
    let mut csv = String::from("userId,movieId,rating,timestamp\n");
    for (u, m, r, t) in ratings() {
        writeln!(csv, "{u},{m},{r},{t}").unwrap();
    }
    std::fs::write(dir.0.join("movies.csv"), movies).unwrap();
    std::fs::write(dir.0.join("ratings.csv"), csv).unwrap();

    let config = TestApp::config(&app.db).database;
    recs::seed_import(&config, app.schema(), &dir.0).await.unwrap();

    let stats = app.get("/api/v1/stats/global").await.expect(200);
    // 30 raters and the catalogue's owner; every movie a listed item; every rating kept.
    assert_eq!(stats["total_users"], json!(31));
    assert_eq!(stats["total_content"], json!(40));
    assert_eq!(stats["total_interactions"], json!(360));
    let page = app
        .get("/api/v1/content?search_term=sequel&page_size=50")
        .await
        .expect(200);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 40, "titles with commas survive the CSV quoting");
    assert!(items.iter().all(|i| i["content_type"] == json!("video")));

    // A second import into the same schema is refused: nothing is loaded twice.
    let again = recs::seed_import(&config, app.schema(), &dir.0).await;
    assert!(format!("{:#}", again.unwrap_err()).contains("already holds users"));
    let stats = app.get("/api/v1/stats/global").await.expect(200);
    assert_eq!(stats["total_interactions"], json!(360));

    // The offline evaluation runs on the imported data (both protocols).
    for split in [Split::LeaveLastOut, Split::Time(0.2)] {
        let options = EvalOptions {
            k: 5,
            split,
            users: 0,
            json: true,
        };
        recs::eval(&config, app.schema(), options).await.unwrap();
    }
}

#[actix_web::test]
async fn a_movielens_100k_folder_is_imported_and_a_broken_line_is_named() {
    let app = TestApp::spawn().await;
    let dir = Dir::new("100k");
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut items = Vec::new();
    for m in 1..=40u32 {
        // Latin-1 titles (é is one byte, 0xE9), 19 genre flags.
        let mut line = format!("{m}|Caf").into_bytes();
        line.push(0xE9);
        let flags: Vec<&str> = (0..19)
            .map(|g| if g as u32 == m % 19 { "1" } else { "0" })
            .collect();
        line.extend(
            format!(
                " {m} (1995)|01-Jan-1995||http://example.invalid/|{}\n",
                flags.join("|")
            )
            .bytes(),
        );
        items.extend(line);
    }
    let mut data = String::new();
    for (u, m, r, t) in ratings() {
        writeln!(data, "{u}\t{m}\t{}\t{t}", r.ceil() as u32).unwrap();
    }
    std::fs::write(dir.0.join("u.item"), &items).unwrap();
    std::fs::write(dir.0.join("u.data"), &data).unwrap();
    let config = TestApp::config(&app.db).database;

    // A malformed line is named (file and line) and nothing is loaded.
    std::fs::write(
        dir.0.join("u.data"),
        format!("{data}7\tnot-a-movie\t4\t1300000000\n"),
    )
    .unwrap();
    let err = format!(
        "{:#}",
        recs::seed_import(&config, app.schema(), &dir.0)
            .await
            .unwrap_err()
    );
    assert!(err.contains("u.data line 361"), "{err}");
    let stats = app.get("/api/v1/stats/global").await.expect(200);
    assert_eq!(stats["total_users"], json!(0));

    std::fs::write(dir.0.join("u.data"), &data).unwrap();
    recs::seed_import(&config, app.schema(), &dir.0).await.unwrap();
    let stats = app.get("/api/v1/stats/global").await.expect(200);
    assert_eq!(stats["total_content"], json!(40));
    assert_eq!(stats["total_interactions"], json!(360));
    let page = app
        .get("/api/v1/content?search_term=Caf%C3%A9&page_size=50")
        .await
        .expect(200);
    assert_eq!(page["items"].as_array().unwrap().len(), 40, "Latin-1 decoded");

    // Neither layout: a clear message.
    let empty = Dir::new("empty");
    std::fs::create_dir_all(&empty.0).unwrap();
    let err = format!(
        "{:#}",
        recs::seed_import(&config, app.schema(), &empty.0)
            .await
            .unwrap_err()
    );
    assert!(err.contains("neither ratings.csv"), "{err}");
}
