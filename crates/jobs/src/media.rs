//! Media files on the local filesystem, served by the API under `/media/`.

use std::path::PathBuf;

use async_trait::async_trait;
use genonaut_domain::ports::{MediaFile, MediaStore};

/// Stores media under one directory (`GENONAUT_MEDIA_DIR`).
#[derive(Debug, Clone)]
pub struct FsMediaStore {
    dir: PathBuf,
}

impl FsMediaStore {
    /// A store writing into `dir` (created on first use).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FsMediaStore { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

fn safe_stem(stem: &str) -> String {
    stem.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[async_trait]
impl MediaStore for FsMediaStore {
    async fn save(&self, stem: &str, file: &MediaFile) -> Result<String, String> {
        let name = format!("{}.{}", safe_stem(stem), file.extension);
        let final_path = self.dir.join(&name);
        let temp_path = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::create_dir_all(&self.dir)
            .await
            .map_err(|e| format!("creating {}: {e}", self.dir.display()))?;
        // Write then rename, so the API never serves a half-written file.
        tokio::fs::write(&temp_path, &file.bytes)
            .await
            .map_err(|e| format!("writing {name}: {e}"))?;
        tokio::fs::rename(&temp_path, &final_path)
            .await
            .map_err(|e| format!("storing {name}: {e}"))?;
        Ok(format!("/media/{name}"))
    }

    async fn remove(&self, url_path: &str) {
        if let Some(name) = url_path.strip_prefix("/media/") {
            let _ = tokio::fs::remove_file(self.dir.join(safe_stem_path(name))).await;
        }
    }
}

fn safe_stem_path(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn files_are_written_atomically_and_addressed_under_media() {
        let dir = std::env::temp_dir().join(format!("genonaut-media-{}", std::process::id()));
        let store = FsMediaStore::new(&dir);
        let file = MediaFile {
            bytes: vec![1, 2, 3],
            extension: "png",
            mime: "image/png",
        };
        let url = store.save("job7/../x", &file).await.unwrap();
        assert_eq!(url, "/media/job7____x.png");
        assert_eq!(std::fs::read(dir.join("job7____x.png")).unwrap(), vec![1, 2, 3]);
        store.remove(&url).await;
        assert!(!dir.join("job7____x.png").exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
