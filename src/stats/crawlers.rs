//! Whether a request comes from a known crawler, by its `User-Agent`, against the list in
//! `crawlers.txt` (one case-insensitive fragment per line, matched all at once).

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;

fn fragments() -> impl Iterator<Item = &'static str> {
    include_str!("crawlers.txt")
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

static CRAWLERS: LazyLock<Option<AhoCorasick>> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(fragments())
        .ok()
});

/// Whether a request with this `User-Agent` is a crawler's, or not a browser's at all (no
/// user agent): neither is a person looking at a listing.
pub fn is_crawler(user_agent: Option<&str>) -> bool {
    match user_agent.map(str::trim) {
        None | Some("") => true,
        Some(agent) => CRAWLERS.as_ref().is_none_or(|c| c.is_match(agent)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_builds_and_every_fragment_is_lowercase() {
        assert!(CRAWLERS.is_some());
        for fragment in fragments() {
            assert_eq!(fragment, fragment.to_lowercase(), "{fragment}");
        }
        assert!(fragments().count() > 50);
    }

    #[test]
    fn crawlers_are_told_from_browsers_and_server_side_frontends() {
        let crawlers = [
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0)",
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2)",
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0 Safari",
            "Slack-ImgProxy (+https://api.slack.com/robots)",
            "Mozilla/5.0 (compatible; YandexImages/3.0)",
            "",
        ];
        for agent in crawlers {
            assert!(is_crawler(Some(agent)), "{agent}");
        }
        assert!(is_crawler(None));
        let people = [
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
            "node",
            "undici",
        ];
        for agent in people {
            assert!(!is_crawler(Some(agent)), "{agent}");
        }
    }
}
