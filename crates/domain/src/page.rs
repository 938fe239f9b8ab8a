//! Offset paging, as the API exposes it (`skip` / `limit`).

/// Which slice of an ordered result to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows to skip (≥ 0).
    pub skip: i64,
    /// Maximum rows to return (≥ 0).
    pub limit: i64,
}

impl PageRequest {
    /// The API's default page: `skip = 0`, `limit = 100`.
    pub const DEFAULT: PageRequest = PageRequest { skip: 0, limit: 100 };

    /// A page; negative values are clamped to 0 (callers validate bounds before).
    pub fn new(skip: i64, limit: i64) -> Self {
        PageRequest {
            skip: skip.max(0),
            limit: limit.max(0),
        }
    }

    /// The first `limit` rows.
    pub fn first(limit: i64) -> Self {
        PageRequest::new(0, limit)
    }

    /// Applies this window to an already ordered vector (used by in-memory adapters).
    pub fn slice<T>(&self, items: Vec<T>) -> Vec<T> {
        let skip = usize::try_from(self.skip).unwrap_or(usize::MAX);
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        items.into_iter().skip(skip).take(limit).collect()
    }
}

/// One page of results plus the number of matches ignoring the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match in total.
    pub total: i64,
}

impl<T> Page<T> {
    /// A page whose total is the number of its own items (the API's "recent/top" listings).
    pub fn complete(items: Vec<T>) -> Self {
        let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
        Page { items, total }
    }

    /// An empty page.
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            total: 0,
        }
    }

    /// Converts every item.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
        }
    }
}

/// One page of a keyset-paged listing: the items, the number of matches ignoring the window,
/// and the key to continue after (`None` on the last page).
#[derive(Debug, Clone, PartialEq)]
pub struct KeysetPage<T, K> {
    /// The rows of this page.
    pub items: Vec<T>,
    /// How many rows match in total.
    pub total: i64,
    /// Where the next page starts; `None` when no row follows this page.
    pub next: Option<K>,
}

impl<T, K> KeysetPage<T, K> {
    /// From a page fetched with one row more than `limit` (the probe): that extra row only says
    /// a next page exists, and the next page starts after the last row kept.
    pub fn from_probe(page: Page<T>, limit: i64, key: impl Fn(&T) -> K) -> Self {
        let Page { mut items, total } = page;
        let limit = usize::try_from(limit.max(0)).unwrap_or(usize::MAX);
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(&key)
        } else {
            None
        };
        KeysetPage { items, total, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_row_gives_the_next_key_and_is_dropped() {
        let more = KeysetPage::from_probe(
            Page {
                items: vec![9, 8, 7],
                total: 10,
            },
            2,
            |i| *i,
        );
        assert_eq!((more.items, more.total, more.next), (vec![9, 8], 10, Some(8)));
        let last = KeysetPage::from_probe(
            Page {
                items: vec![2, 1],
                total: 2,
            },
            2,
            |i| *i,
        );
        assert_eq!((last.items, last.next), (vec![2, 1], None));
        let empty = KeysetPage::from_probe(Page::<i32>::empty(), 5, |i| *i);
        assert_eq!(empty.next, None);
    }

    #[test]
    fn slice_applies_skip_and_limit() {
        let page = PageRequest::new(2, 3);
        assert_eq!(page.slice((0..10).collect()), vec![2, 3, 4]);
        assert_eq!(PageRequest::new(9, 5).slice((0..10).collect()), vec![9]);
        assert!(
            PageRequest::new(0, 0)
                .slice((0..10).collect::<Vec<_>>())
                .is_empty()
        );
    }

    #[test]
    fn complete_counts_its_items() {
        assert_eq!(Page::complete(vec![1, 2, 3]).total, 3);
    }
}
