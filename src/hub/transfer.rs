//! One file's download across dropped connections: which `Range` to ask for next, whether an
//! answer continues what was received or starts over, and whether the bytes add up.
//!
//! A resumed request asks for `bytes=<received>-`. A `206` whose `Content-Range` starts there
//! (and names the same total) continues; a `200` is the whole file again, so what was received
//! is dropped; anything else is an error. A file is complete only when exactly its announced
//! length arrived. A length known before the download (the weights' header check) stands in
//! for a missing `Content-Length` and must match an announced one; a file may be held to a
//! limit, announced or counted.

use crate::hub::progress::format_bytes;

/// How many times a dropped download is resumed before the user is asked.
pub const MAX_RETRIES: u32 = 3;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transfer {
    pub received: u64,
    /// The file's length, from the first answer.
    pub total: Option<u64>,
    /// The file's ETag, when the server sent one: a resumed answer must carry the same.
    pub etag: Option<String>,
    /// Resumptions so far.
    pub retries: u32,
    /// The length the file had when it was checked before the download.
    pub expected: Option<u64>,
    /// The most bytes the file may have.
    pub limit: Option<u64>,
}

/// What to do with the bytes of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Append: the answer continues at `received`.
    Continue,
    /// Drop what was received: the answer is the whole file from its first byte.
    Restart,
}

/// The headers of an answer that matter here.
#[derive(Debug, Clone, Default)]
pub struct Head<'a> {
    pub status: u16,
    pub content_length: Option<u64>,
    pub content_range: Option<&'a str>,
    pub etag: Option<&'a str>,
}

/// `bytes <first>-<last>/<total>` (total may be `*`), a range that lies inside its file: `first
/// <= last < total` (and `last` below `u64::MAX` when the total is not said, so that `last + 1`
/// counts).
pub fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let total = if total == "*" { None } else { Some(total.parse().ok()?) };
    let (first, last): (u64, u64) = (first.parse().ok()?, last.parse().ok()?);
    (first <= last && last < total.unwrap_or(u64::MAX)).then_some((first, last, total))
}

impl Transfer {
    /// A download of a file `expected` bytes long (when that is known), of at most `limit`.
    pub fn new(expected: Option<u64>, limit: Option<u64>) -> Transfer {
        Transfer { total: expected, expected, limit, ..Transfer::default() }
    }

    fn within_limit(&self, bytes: u64) -> Result<(), String> {
        match self.limit {
            Some(limit) if bytes > limit => Err(format!("it is over {}, more than headlight reads for this file; nothing is kept", format_bytes(limit))),
            _ => Ok(()),
        }
    }

    /// The `Range` header of the next request: none for a fresh start.
    pub fn range(&self) -> Option<String> {
        (self.received > 0).then(|| format!("bytes={}-", self.received))
    }

    /// Reads an answer's headers. `Err` says in words why the answer cannot be used.
    pub fn answer(&mut self, head: &Head) -> Result<Answer, String> {
        match head.status {
            200 => {
                if let (Some(expected), Some(announced)) = (self.expected, head.content_length)
                    && expected != announced
                {
                    return Err(format!("the file changed on the server: it is {announced} bytes now, {expected} when it was checked; nothing is kept"));
                }
                self.within_limit(head.content_length.unwrap_or(0))?;
                self.received = 0;
                self.total = head.content_length.or(self.expected);
                self.etag = head.etag.map(str::to_string);
                Ok(Answer::Restart)
            }
            206 => {
                let (first, last, total) = head
                    .content_range
                    .and_then(parse_content_range)
                    .ok_or_else(|| format!("the server answered a partial request without a readable Content-Range ({:?})", head.content_range))?;
                if first != self.received {
                    return Err(format!("the server resumed at byte {first}, not at byte {} where the download stopped", self.received));
                }
                self.within_limit(total.unwrap_or(last + 1))?;
                if total.is_some() && self.total.is_some() && total != self.total {
                    return Err(format!("the file changed on the server while downloading ({} bytes, then {})", self.total.unwrap_or(0), total.unwrap_or(0)));
                }
                if let (Some(ours), Some(theirs)) = (&self.etag, head.etag)
                    && ours != theirs
                {
                    return Err("the file changed on the server while downloading (its ETag differs)".into());
                }
                if self.total.is_none() {
                    self.total = total.or(Some(last + 1));
                }
                Ok(Answer::Continue)
            }
            404 => Err("not found (404)".into()),
            401 | 403 => Err(format!("access denied ({}): the repository may be private or gated", head.status)),
            status => Err(format!("the server answered {status}")),
        }
    }

    /// Counts bytes as they arrive; more than the announced length, or the limit, is an error.
    pub fn add(&mut self, bytes: u64) -> Result<(), String> {
        self.received += bytes;
        self.within_limit(self.received)?;
        match self.total {
            Some(total) if self.received > total => Err(format!(
                "received more than the {total} bytes announced (a compressed answer, or the file changed on the server); nothing is kept"
            )),
            _ => Ok(()),
        }
    }

    /// The stream ended: complete, or cut short (resume), by the announced length.
    pub fn complete(&self) -> bool {
        self.total.is_none_or(|total| self.received == total)
    }

    /// Whether another resumption is allowed, counting it.
    pub fn may_retry(&mut self) -> bool {
        self.retries += 1;
        self.retries <= MAX_RETRIES
    }

    /// Seconds to wait before resumption number `retries`: 1, 2, 4.
    pub fn backoff_seconds(&self) -> u32 {
        1 << self.retries.saturating_sub(1).min(4)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(length: u64, etag: Option<&str>) -> Head<'_> {
        Head { status: 200, content_length: Some(length), content_range: None, etag }
    }

    fn partial<'a>(range: &'a str, etag: Option<&'a str>) -> Head<'a> {
        Head { status: 206, content_length: None, content_range: Some(range), etag }
    }

    #[test]
    fn content_ranges_parse() {
        assert_eq!(parse_content_range("bytes 100-999/1000"), Some((100, 999, Some(1000))));
        assert_eq!(parse_content_range("bytes 0-9/*"), Some((0, 9, None)));
        assert_eq!(parse_content_range("bytes */1000"), None);
        assert_eq!(parse_content_range("items 0-9/10"), None);
        // found by the fuzzer (fuzz/regressions/transfer): ranges backwards, past their file, or
        // whose length does not count
        assert_eq!(parse_content_range("bytes 07370955161-11615/*"), None);
        assert_eq!(parse_content_range("bytes 0-1000/1000"), None);
        assert_eq!(parse_content_range("bytes 0-18446744073709551615/*"), None);
    }

    #[test]
    fn a_dropped_download_resumes_where_it_stopped() {
        let mut t = Transfer::default();
        assert_eq!(t.range(), None);
        assert_eq!(t.answer(&ok(1000, Some("\"abc\""))), Ok(Answer::Restart));
        t.add(400).unwrap();
        assert!(!t.complete(), "cut short at 400 of 1000");
        assert!(t.may_retry());
        assert_eq!(t.backoff_seconds(), 1);
        assert_eq!(t.range().as_deref(), Some("bytes=400-"));
        assert_eq!(t.answer(&partial("bytes 400-999/1000", Some("\"abc\""))), Ok(Answer::Continue));
        t.add(600).unwrap();
        assert!(t.complete());
    }

    #[test]
    fn a_server_that_ignores_range_starts_over() {
        let mut t = Transfer::default();
        t.answer(&ok(1000, None)).unwrap();
        t.add(400).unwrap();
        assert_eq!(t.answer(&ok(1000, None)), Ok(Answer::Restart));
        assert_eq!(t.received, 0);
        assert_eq!(t.range(), None);
    }

    #[test]
    fn answers_that_do_not_fit_are_errors() {
        let mut t = Transfer::default();
        t.answer(&ok(1000, Some("\"abc\""))).unwrap();
        t.add(400).unwrap();
        assert!(t.answer(&partial("bytes 300-999/1000", None)).unwrap_err().contains("resumed at byte 300"));
        assert!(t.answer(&partial("bytes 400-1999/2000", None)).unwrap_err().contains("changed on the server"));
        assert!(t.answer(&partial("bytes 400-999/1000", Some("\"new\""))).unwrap_err().contains("ETag"));
        assert!(t.answer(&partial("garbage", None)).unwrap_err().contains("Content-Range"));
        assert_eq!(t.answer(&Head { status: 404, ..Head::default() }), Err("not found (404)".into()));
        assert!(t.answer(&Head { status: 401, ..Head::default() }).unwrap_err().contains("gated"));
        assert!(t.add(700).unwrap_err().contains("received more than the 1000 bytes announced (a compressed answer"));
    }

    #[test]
    fn a_length_checked_before_stands_in_for_a_missing_one_and_must_match() {
        let mut t = Transfer::new(Some(1000), None);
        assert_eq!(t.answer(&Head { status: 200, ..Head::default() }), Ok(Answer::Restart));
        assert_eq!(t.total, Some(1000), "no Content-Length: the length from the header check");
        t.add(600).unwrap();
        assert!(!t.complete(), "a body that ends early is cut short, not complete");
        assert!(Transfer::new(Some(1000), None).answer(&ok(999, None)).unwrap_err().contains("changed on the server: it is 999 bytes now, 1000 when it was checked"));
        let mut resumed = Transfer::new(Some(1000), None);
        resumed.add(400).unwrap();
        assert!(resumed.answer(&partial("bytes 400-1999/2000", None)).unwrap_err().contains("changed on the server"));
    }

    #[test]
    fn a_limit_holds_for_announced_and_counted_bytes() {
        let mut t = Transfer::new(None, Some(1024));
        assert!(t.answer(&ok(2048, None)).unwrap_err().contains("over 1.0 kB, more than headlight reads for this file"));
        let mut t = Transfer::new(None, Some(1024));
        assert_eq!(t.answer(&Head { status: 200, ..Head::default() }), Ok(Answer::Restart));
        t.add(1024).unwrap();
        assert!(t.add(1).unwrap_err().contains("over 1.0 kB"));
        // found by the fuzzer (fuzz/regressions/transfer): a partial answer announcing a file
        // past the limit, which the download would have reserved memory for
        let mut t = Transfer::new(None, Some(1024));
        assert!(t.answer(&partial("bytes 0-99/1099511627776", None)).unwrap_err().contains("over 1.0 kB"));
    }

    #[test]
    fn retries_are_counted_and_back_off() {
        let mut t = Transfer::default();
        let waits: Vec<u32> = std::iter::from_fn(|| t.may_retry().then(|| t.backoff_seconds())).collect();
        assert_eq!(waits, [1, 2, 4]);
    }
}
