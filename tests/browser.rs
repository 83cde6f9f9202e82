//! The newsroom page in a real browser: the real server on 127.0.0.1:0 (the API tests'
//! harness), Debian's Chromium driven headless through chromedriver (WebDriver, fantoccini).
//! Each test checks what an editor relies on: the draft's highlights are exactly the spans
//! Recognize answers, the term card and its copy buttons, lookup, live glossary updates,
//! translation checks and sign-in. Screenshots go to target/screenshots/.
//!
//! Without /usr/bin/chromium or /usr/bin/chromedriver the tests say why and pass, unless
//! `TOLMACH_REQUIRE_BROWSER=1` (CI) makes a missing browser a failure.

#[path = "api/util.rs"]
#[allow(dead_code)] // the API tests' harness; these tests use only part of it
mod util;

use std::future::Future;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::sync::{Mutex, MutexGuard};
use tolmach::auth::{NewKey, Role};
use tolmach::service::proto::memory_client::MemoryClient;
use tolmach::service::proto::review_client::ReviewClient;
use tolmach::service::proto::{
    CheckTranslationRequest, FindingSeverity, RecognizeRequest, SearchRequest, SegmentPair,
    TermStatus, TextPlace,
};
use util::{
    annotated, concept, data, lookup_text, occurrences, run_cli, start_with_keys, store, TestServer,
};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a condition may take to become true before the test fails: recognition waits
/// 300 ms after the last keystroke, so this is generous without hiding a hang.
const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);

/// One browser at a time: the machine has two cores, and each Chromium takes most of one.
static BROWSER_TURN: Mutex<()> = Mutex::const_new(());

/// chromedriver (a child process, killed by PID on drop) with a Chromium session on a fresh
/// profile.
struct Browser {
    client: Client,
    driver: Child,
    driver_addr: SocketAddr,
    session: String,
    _profile: TempDir,
}

impl Browser {
    /// [`Browser::take_turn`], then a server with the shipped glossary and its page opened.
    async fn on_new_server() -> Option<(Browser, MutexGuard<'static, ()>, TestServer)> {
        let (browser, turn) = Browser::take_turn().await?;
        let server = TestServer::start().await;
        browser.open(&server).await;
        Some((browser, turn, server))
    }

    /// Waits for this test's turn with the browser, then starts it: see [`Browser::start`].
    async fn take_turn() -> Option<(Browser, MutexGuard<'static, ()>)> {
        let turn = BROWSER_TURN.lock().await;
        Some((Browser::start().await?, turn))
    }

    /// Starts chromedriver and a headless Chromium of 1400×900, or answers `None` (after
    /// saying why) when they are not installed and the environment does not require them.
    async fn start() -> Option<Browser> {
        let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
            .into_iter()
            .filter(|path| !Path::new(path).exists())
            .collect();
        if !missing.is_empty() {
            let reason = format!(
                "browser tests need {} (Debian: apt-get install chromium chromium-driver)",
                missing.join(" and ")
            );
            assert!(
                std::env::var("TOLMACH_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "{reason}, and TOLMACH_REQUIRE_BROWSER=1 requires them"
            );
            eprintln!("skipped: {reason}");
            return None;
        }
        let port = free_port();
        let driver_addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        if wait_until_listening(driver_addr).await.is_none() {
            let _ = driver.kill();
            let _ = driver.wait();
            panic!("chromedriver did not listen on {driver_addr} within {WAIT:?}");
        }
        let profile = tempfile::tempdir().expect("profile directory");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1400,900", "--lang=en-US",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let connected = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://{driver_addr}"))
            .await;
        let client = match connected {
            Ok(client) => client,
            Err(e) => {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("a Chromium session through chromedriver: {e}");
            }
        };
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session");
        Some(Browser {
            client,
            driver,
            driver_addr,
            session,
            _profile: profile,
        })
    }

    /// Runs `script` in the page with `args` and answers what it returns.
    async fn run(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `probe`, run in the page, answers something other than null or false.
    async fn wait_for(&self, what: &str, probe: &str, args: Vec<Value>) -> Value {
        poll(what, || async {
            let value = self.run(probe, args.clone()).await;
            (!matches!(value, Value::Null | Value::Bool(false))).then_some(value)
        })
        .await
    }

    /// Opens the page of `server` and waits until the draft (or the sign-in form) is shown.
    async fn open(&self, server: &TestServer) {
        let url = format!("http://{}/", server.server.addr);
        self.client.goto(&url).await.expect("page loads");
        self.wait_for(
            "the page to show the draft or the sign-in form",
            "return !document.getElementById('app').hidden || !document.getElementById('login').hidden",
            vec![],
        )
        .await;
    }

    /// Pastes `text` into the draft (as the paste of a whole article arrives: one input
    /// event) and waits until the page has drawn the answer to it.
    async fn paste_draft(&self, text: &str) {
        self.run(
            "const input = document.getElementById('draft-input');
             input.focus();
             input.value = arguments[0];
             input.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste' }));",
            vec![json!(text)],
        )
        .await;
    }

    /// The draft's highlights: text, concept id and status of each mark, in order.
    async fn marks(&self) -> Vec<Mark> {
        let value = self
            .run(
                "return [...document.querySelectorAll('#draft-mirror mark.term')].map(m => [
                   m.textContent, m.dataset.concept,
                   [...m.classList].find(c => c.startsWith('st-')).slice(3)])",
                vec![],
            )
            .await;
        serde_json::from_value(value).expect("marks as [text, concept, status]")
    }

    /// Waits until the draft's highlights equal `expected`, then answers them; a timeout
    /// fails with both lists.
    async fn wait_for_marks(&self, expected: &[Mark]) -> Vec<Mark> {
        let mut last = Vec::new();
        for _ in 0..polls() {
            last = self.marks().await;
            if last == expected {
                return last;
            }
            tokio::time::sleep(POLL).await;
        }
        assert_eq!(last, expected, "the draft's highlights after {WAIT:?}");
        last
    }

    /// Moves the mouse to the centre of the first element `css` selects, as a hand does (the
    /// draft's marks lie under the textarea, so they cannot be reached as elements).
    async fn point_at(&self, css: &str) -> MouseActions {
        let centre = self
            .run(
                "const r = document.querySelector(arguments[0]).getBoundingClientRect();
                 return [r.left + r.width / 2, r.top + r.height / 2];",
                vec![json!(css)],
            )
            .await;
        let (x, y): (f64, f64) = serde_json::from_value(centre).expect("a point");
        MouseActions::new("mouse".into()).then(PointerAction::MoveTo {
            duration: None,
            x,
            y,
        })
    }

    /// Hovers over the first element `css` selects.
    async fn hover(&self, css: &str) {
        let hover = self.point_at(css).await;
        self.client.perform_actions(hover).await.expect("hover");
    }

    /// Clicks the first element `css` selects where it shows.
    async fn click_at(&self, css: &str) {
        let click = self
            .point_at(css)
            .await
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        self.client.perform_actions(click).await.expect("click");
    }

    /// Scrolls the tools (lookup, memory, check) to the top of the viewport and saves a
    /// screenshot of it as target/screenshots/`name`.png.
    async fn screenshot_tools(&self, name: &str) {
        self.run(
            "document.querySelector('.tools').scrollIntoView({ block: 'start' })",
            vec![],
        )
        .await;
        self.screenshot(name).await;
    }

    /// Saves a screenshot of the viewport as target/screenshots/`name`.png.
    async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).expect("screenshot directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }
}

impl Drop for Browser {
    /// Ends the session (chromedriver then quits Chromium), then kills chromedriver.
    fn drop(&mut self) {
        delete_session(self.driver_addr, &self.session);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A highlight of the draft: its text, its concept's id and the status of the matched term.
type Mark = (String, String, String);

/// Ends a WebDriver session with a blocking `DELETE /session/{id}`: drop cannot await the
/// client, and without it Chromium would outlive chromedriver.
fn delete_session(driver: SocketAddr, session: &str) {
    use std::io::{BufRead, BufReader, Write};
    let Ok(mut stream) = TcpStream::connect_timeout(&driver, Duration::from_secs(2)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: {driver}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        // chromedriver answers once Chromium has quit.
        let _ = BufReader::new(stream).read_line(&mut String::new());
    }
}

/// Whether `server` has the JSON route `path`: a route it lacks answers 404.
async fn has_route(server: &TestServer, method: &str, path: &str) -> bool {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let addr = server.server.addr;
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("server reachable");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut status_line = String::new();
    BufReader::new(stream)
        .read_line(&mut status_line)
        .await
        .expect("status line");
    !status_line.starts_with("HTTP/1.1 404")
}

/// A loopback port free at the time of asking.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

async fn wait_until_listening(addr: SocketAddr) -> Option<()> {
    for _ in 0..polls() {
        if TcpStream::connect(addr).is_ok() {
            return Some(());
        }
        tokio::time::sleep(POLL).await;
    }
    None
}

fn polls() -> u32 {
    (WAIT.as_millis() / POLL.as_millis()) as u32
}

/// Runs `probe` until it answers something, at most for [`WAIT`].
async fn poll<T, F: Future<Output = Option<T>>>(what: &str, mut probe: impl FnMut() -> F) -> T {
    for _ in 0..polls() {
        if let Some(value) = probe().await {
            return value;
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("waited {WAIT:?} for {what}");
}

fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("screenshots")
}

/// The paragraphs of the hand-annotated newsroom set, with the `[[surface|id]]` marks removed.
fn newsroom_paragraphs() -> Vec<String> {
    data("recognize_newsroom_eval.txt")
        .split("\n\n")
        .filter(|paragraph| !paragraph.trim().is_empty() && !paragraph.starts_with('#'))
        .map(|paragraph| annotated(paragraph.trim()).0)
        .collect()
}

/// The first newsroom paragraph that contains `words`.
fn newsroom_paragraph(words: &str) -> String {
    newsroom_paragraphs()
        .into_iter()
        .find(|paragraph| paragraph.contains(words))
        .unwrap_or_else(|| panic!("a newsroom paragraph with {words:?}"))
}

fn is_han(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04ff}').contains(&c)
}

/// The highlights the page must draw for `text`: what gRPC Recognize answers, each span cut
/// out of the text by its UTF-16 offsets.
async fn expected_marks(server: &TestServer, text: &str) -> Vec<Mark> {
    let mut client = server.client().await;
    let found = occurrences(
        &mut client,
        RecognizeRequest {
            text: text.into(),
            ..Default::default()
        },
    )
    .await;
    let utf16: Vec<u16> = text.encode_utf16().collect();
    found
        .iter()
        .map(|occurrence| {
            let span = occurrence.utf16.expect("a UTF-16 span");
            let surface = String::from_utf16(&utf16[span.start as usize..span.end as usize])
                .expect("a span on character boundaries");
            let concept = occurrence.concept.as_ref().expect("a concept");
            let status = TermStatus::try_from(occurrence.matched_status).expect("a status");
            (surface, concept.id.clone(), status_name(status).into())
        })
        .collect()
}

/// The JSON API's name of a status.
fn status_name(status: TermStatus) -> &'static str {
    match status {
        TermStatus::Preferred => "preferred",
        TermStatus::Admitted | TermStatus::Unspecified => "admitted",
        TermStatus::Deprecated => "deprecated",
        TermStatus::Forbidden => "forbidden",
        TermStatus::Superseded => "superseded",
    }
}

/// A character outside the Basic Multilingual Plane (U+20BB7, a variant of 吉 that CJK fonts
/// have): two UTF-16 units, one scalar value, so every span after it differs between the two.
const OUTSIDE_BMP: char = '\u{20BB7}';

/// Pastes the newsroom paragraphs written in `script`, each after [`OUTSIDE_BMP`], and checks
/// the highlights.
async fn highlights_equal_recognize(script: fn(char) -> bool, screenshot: &str) {
    let paragraphs: Vec<String> = newsroom_paragraphs()
        .into_iter()
        .filter(|paragraph| paragraph.chars().any(script))
        .collect();
    assert!(paragraphs.len() >= 5, "the newsroom set has paragraphs");
    paste_and_compare(&paragraphs, screenshot).await;
}

/// Pastes `paragraphs`, each after [`OUTSIDE_BMP`], and checks that the page highlights
/// exactly what Recognize finds, with one list entry per concept.
async fn paste_and_compare(paragraphs: &[String], screenshot: &str) {
    let Some((browser, _turn)) = Browser::take_turn().await else {
        return;
    };
    let server = TestServer::start().await;
    let draft = paragraphs
        .iter()
        .map(|paragraph| format!("{OUTSIDE_BMP} {paragraph}"))
        .collect::<Vec<_>>()
        .join("\n\n");
    let expected = expected_marks(&server, &draft).await;
    assert!(expected.len() >= 20, "Recognize finds the set's terms");

    browser.open(&server).await;
    browser.paste_draft(&draft).await;
    browser.wait_for_marks(&expected).await;
    let listed = browser
        .run(
            "return document.querySelectorAll('#terms-list .terms-open').length",
            vec![],
        )
        .await;
    let concepts: std::collections::BTreeSet<&str> =
        expected.iter().map(|(_, id, _)| id.as_str()).collect();
    assert_eq!(listed, json!(concepts.len()), "one list entry per concept");
    browser.screenshot(screenshot).await;
}

#[tokio::test]
async fn chinese_draft_is_highlighted_exactly_where_recognize_finds_terms() {
    highlights_equal_recognize(is_han, "draft-zh").await;
}

#[tokio::test]
async fn russian_draft_is_highlighted_exactly_where_recognize_finds_terms() {
    highlights_equal_recognize(is_cyrillic, "draft-ru").await;
}

/// The two newsroom articles the project grew from, pasted whole, one after the other.
#[tokio::test]
#[cfg_attr(not(tolmach_seeds), ignore = "needs ../shared/seeds")]
async fn seed_articles_are_highlighted_exactly_where_recognize_finds_terms() {
    for (i, (_, article)) in util::seed_articles().into_iter().enumerate() {
        let paragraphs: Vec<String> = article
            .split("\n\n")
            .map(str::trim)
            .filter(|paragraph| !paragraph.is_empty())
            .map(str::to_owned)
            .collect();
        paste_and_compare(&paragraphs, &format!("seed-{i}")).await;
    }
}

#[tokio::test]
async fn warnings_come_first_with_what_to_write_and_the_card_offers_copies() {
    let Some((browser, _turn)) = Browser::take_turn().await else {
        return;
    };
    let server = TestServer::start().await;
    let english = newsroom_paragraph("One Belt, One Road")
        + " In 2019 the leaders met in Nur-Sultan; some commentators still call it the Belt \
           and Road strategy.";
    let draft = [
        english,
        newsroom_paragraph("“一带一路”"),
        newsroom_paragraph("«Пояс и путь»"),
    ]
    .join("\n\n");
    let draft = draft.as_str();
    let expected = expected_marks(&server, draft).await;
    let mut client = server.client().await;
    let found = occurrences(
        &mut client,
        RecognizeRequest {
            text: draft.into(),
            ..Default::default()
        },
    )
    .await;
    // What the list must say of each warning: status, the words as written, what to write.
    let warning = |surface: &str, status: &str| {
        let at = expected
            .iter()
            .position(|mark| mark.0 == surface && mark.2 == status)
            .unwrap_or_else(|| panic!("Recognize marks {surface} as {status}"));
        let instead = if status == "superseded" {
            &found[at].current_term
        } else {
            &found[at].suggestion
        };
        assert!(!instead.is_empty(), "{surface}: what to write instead");
        json!([format!("terms-item st-{status}"), surface, instead])
    };
    let warnings = json!([
        warning("Belt and Road strategy", "forbidden"),
        warning("One Belt, One Road", "deprecated"),
        warning("Nur-Sultan", "superseded"),
    ]);
    let suggestion = warnings[1][2].as_str().unwrap_or_default().to_owned();

    browser.open(&server).await;
    browser.paste_draft(draft).await;
    browser.wait_for_marks(&expected).await;

    // The list puts the warnings first, forbidden before deprecated before former names,
    // each with the term to use instead.
    let listed = browser
        .run(
            "return [...document.querySelectorAll('#terms-list .terms-item')].slice(0, 3).map(item => {
               const line = item.querySelector('.terms-warning.' + item.className.split(' ')[1]);
               return [item.className, line.querySelector('.surface').textContent,
                       line.querySelector('.replacement').textContent];
             })",
            vec![],
        )
        .await;
    assert_eq!(listed, warnings);

    // Hovering over a former name shows its card with the name in use today; leaving it
    // hides the card.
    browser.hover("#draft-mirror mark.st-superseded").await;
    let hovered = browser
        .wait_for(
            "the card of the hovered mark",
            "const card = document.getElementById('term-card');
             return !card.hidden && card.querySelector('.card-banner.st-superseded strong')?.textContent",
            vec![],
        )
        .await;
    assert_eq!(hovered, warnings[2][2]);
    browser.hover(".topbar").await;
    browser
        .wait_for(
            "the card to close once the mouse leaves",
            "return document.getElementById('term-card').hidden",
            vec![],
        )
        .await;

    // Clicking the mark in the draft opens its card: the warning, the suggestion to copy, and
    // the concept's renderings in every language with their copy buttons.
    browser.click_at("#draft-mirror mark.st-deprecated").await;
    let card = browser
        .wait_for(
            "the term card",
            "const card = document.getElementById('term-card');
             if (card.hidden) return null;
             return {
               banner: card.querySelector('.card-banner strong')?.textContent,
               langs: [...card.querySelectorAll('.rendering-lang .lang-label')].map(h => h.textContent),
               copies: [...card.querySelectorAll('button.copy')].map(b => b.dataset.copy),
             };",
            vec![],
        )
        .await;
    assert_eq!(card["banner"], json!(suggestion));
    assert_eq!(card["langs"], json!(["Chinese", "Russian", "English"]));
    let copies: Vec<String> = serde_json::from_value(card["copies"].clone()).expect("copies");
    assert!(copies.contains(&suggestion), "{copies:?}");
    assert!(copies.iter().any(|c| c == "一带一路"), "{copies:?}");
    browser.screenshot("card").await;

    // A copy button copies and says so.
    browser
        .run(
            "document.querySelector('#term-card .card-banner button.copy').click()",
            vec![],
        )
        .await;
    browser
        .wait_for(
            "the copy to be confirmed",
            "return document.querySelector('#term-card .card-banner button.copy').classList.contains('is-copied')",
            vec![],
        )
        .await;

    // From the keyboard: Enter on a listed concept opens its card with the focus in it;
    // Escape closes it and gives the focus back.
    let first_listed = browser
        .client
        .find(Locator::Css("#terms-list .terms-open"))
        .await
        .expect("a listed concept");
    browser
        .run(
            "document.querySelector('#terms-list .terms-open').focus()",
            vec![],
        )
        .await;
    first_listed.send_keys("\u{E007}").await.expect("Enter");
    let opened = browser
        .wait_for(
            "the card opened from the keyboard",
            "const card = document.getElementById('term-card');
             return !card.hidden && card.contains(document.activeElement)
               && card.querySelector('.card-banner strong').textContent",
            vec![],
        )
        .await;
    assert_eq!(opened, warnings[0][2], "the first listed concept's card");
    browser
        .client
        .active_element()
        .await
        .expect("focus")
        .send_keys("\u{E00C}")
        .await
        .expect("Escape");
    let closed = browser
        .run(
            "return [document.getElementById('term-card').hidden,
                     document.activeElement.classList.contains('terms-open')]",
            vec![],
        )
        .await;
    assert_eq!(closed, json!([true, true]));

    // Alt+Enter in the draft opens the card of the term at the caret, and types nothing.
    browser
        .run(
            "const input = document.getElementById('draft-input');
             const at = input.value.indexOf('Nur-Sultan') + 3;
             input.focus();
             input.setSelectionRange(at, at);",
            vec![],
        )
        .await;
    browser
        .client
        .find(Locator::Id("draft-input"))
        .await
        .expect("the draft")
        .send_keys("\u{E00A}\u{E007}\u{E000}")
        .await
        .expect("Alt+Enter");
    let at_caret = browser
        .wait_for(
            "the card of the term at the caret",
            "const card = document.getElementById('term-card');
             return !card.hidden && card.contains(document.activeElement)
               && [card.querySelector('.card-banner strong').textContent,
                   document.getElementById('draft-input').value === arguments[0]]",
            vec![json!(draft)],
        )
        .await;
    assert_eq!(at_caret, json!([warnings[2][2], true]));
}

#[tokio::test]
async fn lookup_finds_concepts_from_pinyin_and_typos() {
    let Some((browser, _turn, server)) = Browser::on_new_server().await else {
        return;
    };
    let mut client = server.client().await;
    let cases = [
        ("yidaiyilu", "belt-and-road"),
        ("Shangai Spirit", "shanghai-spirit"),
        ("Шанхайского духа", "shanghai-spirit"),
    ];
    for (query, concept) in cases {
        let best = &lookup_text(&mut client, query).await.hits[0];
        assert_eq!(best.concept.as_ref().map(|c| c.id.as_str()), Some(concept));
        let input = browser
            .client
            .find(Locator::Id("lookup-input"))
            .await
            .expect("lookup box");
        input.clear().await.expect("cleared");
        input.send_keys(query).await.expect("typed");
        let shown = browser
            .wait_for(
                "the lookup results of the query typed",
                "const results = document.getElementById('lookup-results');
                 const hit = results.querySelector('.hit');
                 return results.dataset.query === arguments[0] && hit
                   ? [hit.dataset.concept, hit.querySelector('.hit-term').textContent,
                      hit.querySelectorAll('button.copy').length > 0]
                   : null;",
                vec![json!(query)],
            )
            .await;
        assert_eq!(shown, json!([concept, best.matched_term, true]), "{query}");
    }
    browser.screenshot_tools("lookup").await;
}

// Multi-threaded: the import runs the command-line client, which blocks its thread while the
// server answers it.
#[tokio::test(flavor = "multi_thread")]
async fn memory_search_marks_what_differs_from_the_stored_sentence() {
    let Some((browser, _turn)) = Browser::take_turn().await else {
        return;
    };
    let server = TestServer::start().await;
    run_cli(
        &server,
        &["import", "examples/memory.tmx", "--memory", "news"],
        "",
    );
    let query = "2024年7月，上海合作组织峰会在青岛举行。";
    let mut memory = MemoryClient::new(server.channel().await);
    let best = memory
        .search(SearchRequest {
            text: query.into(),
            source_lang: "zh".into(),
            target_lang: "ru".into(),
            ..Default::default()
        })
        .await
        .expect("search")
        .into_inner()
        .matches
        .swap_remove(0);

    browser.open(&server).await;
    browser
        .run(
            "document.getElementById('tab-memory').click();
             document.getElementById('memory-input').value = arguments[0];
             document.getElementById('memory-from').value = 'zh';
             document.getElementById('memory-to').value = 'ru';
             document.getElementById('memory-form').requestSubmit();",
            vec![json!(query)],
        )
        .await;
    let shown = browser
        .wait_for(
            "the memory's matches",
            "const match = document.querySelector('#memory-results .match');
             return match && [
               match.querySelector('.match-score').textContent,
               match.querySelector('.match-target span:not(.match-label)').textContent,
               [...match.querySelectorAll('.match-source mark.diff')].map(m => m.textContent),
               match.querySelector('.match-target button.copy').dataset.copy,
             ];",
            vec![],
        )
        .await;
    let percent = format!("{}%", (best.score * 100.0).round());
    let target = if best.adapted_target.is_empty() {
        &best.target
    } else {
        &best.adapted_target
    };
    // gRPC counts the stored source's differences in UTF-8 bytes, the page in UTF-16 units.
    let differing: Vec<&str> = best
        .diffs
        .iter()
        .filter_map(|diff| diff.stored)
        .filter(|span| span.end > span.start)
        .map(|span| &best.source[span.start as usize..span.end as usize])
        .collect();
    assert!(
        !differing.is_empty(),
        "the best match differs from the query"
    );
    assert_eq!(
        shown,
        json!([percent, target, differing, target]),
        "the best match, its stored source marked where it differs, its target to copy"
    );
    browser.screenshot_tools("memory").await;
}

#[tokio::test]
async fn a_concept_stored_over_grpc_is_highlighted_without_reload() {
    let Some((browser, _turn, server)) = Browser::on_new_server().await else {
        return;
    };
    let draft = "The Zorvanian Accord was signed in Bishkek.";
    browser.paste_draft(draft).await;
    let before = expected_marks(&server, draft).await;
    browser.wait_for_marks(&before).await;
    assert!(before.iter().all(|(text, _, _)| text != "Zorvanian Accord"));
    browser
        .wait_for(
            "the page to follow the glossary's changes",
            "return !document.getElementById('live-status').hidden",
            vec![],
        )
        .await;

    let mut client = server.client().await;
    store(
        &mut client,
        concept(
            "zorvanian-accord",
            &[("en", "Zorvanian Accord"), ("ru", "Зорванское соглашение")],
        ),
    )
    .await;
    let after = expected_marks(&server, draft).await;
    assert!(after.iter().any(|(_, id, _)| id == "zorvanian-accord"));
    browser.wait_for_marks(&after).await;
    let notice = browser
        .run(
            "const notice = document.getElementById('notice');
             return notice.hidden ? null : notice.textContent",
            vec![],
        )
        .await;
    assert!(
        notice.as_str().unwrap_or("").contains("zorvanian-accord"),
        "the page says what changed: {notice}"
    );
    browser.screenshot("live").await;
}

#[tokio::test]
async fn translation_check_shows_what_review_finds_on_both_sides() {
    let Some((browser, _turn, server)) = Browser::on_new_server().await else {
        return;
    };
    browser
        .run("document.getElementById('tab-check').click()", vec![])
        .await;
    if !has_route(&server, "POST", "/api/check").await {
        let unavailable = browser
            .wait_for(
                "the check pane to say the server does not check",
                "return !document.getElementById('check-unavailable').hidden
                   && document.getElementById('check-submit').disabled",
                vec![],
            )
            .await;
        assert_eq!(unavailable, json!(true));
        browser.screenshot_tools("check").await;
        eprintln!("skipped: this server has no /api/check");
        return;
    }
    let source = "2024年，上海合作组织成员国共同推进“一带一路”建设。";
    let target = "In 2023 the member states jointly advanced the One Belt, One Road.";
    let mut review = ReviewClient::new(server.channel().await);
    let answer = review
        .check_translation(CheckTranslationRequest {
            pairs: vec![SegmentPair {
                source_text: source.into(),
                source_lang: "zh".into(),
                target_text: target.into(),
                target_lang: "en".into(),
                ..Default::default()
            }],
            ..Default::default()
        })
        .await
        .expect("check")
        .into_inner();
    let surface = |place: &Option<TextPlace>| place.as_ref().map(|p| p.surface.clone());
    let findings: Vec<Value> = answer.pairs[0]
        .findings
        .iter()
        .map(|finding| {
            let error = finding.severity == FindingSeverity::Error as i32;
            json!([
                if error { "is-error" } else { "is-warning" },
                surface(&finding.source).unwrap_or_default(),
                surface(&finding.target).unwrap_or_default(),
                finding.expected,
            ])
        })
        .collect();
    assert!(
        findings.len() >= 2,
        "a deprecated term and a changed number: {findings:?}"
    );

    browser
        .run(
            "document.getElementById('check-source').value = arguments[0];
             document.getElementById('check-source-lang').value = 'zh';
             document.getElementById('check-target').value = arguments[1];
             document.getElementById('check-target-lang').value = 'en';
             document.getElementById('check-submit').click();",
            vec![json!(source), json!(target)],
        )
        .await;
    let shown = browser
        .wait_for(
            "the check's findings",
            "const items = [...document.querySelectorAll('#check-results .finding')];
             return items.length === 0 ? null : items.map(item => [
               item.classList[1],
               item.querySelector('.finding-head .surface:not(.surface-target)')?.textContent ?? '',
               item.querySelector('.finding-head .surface-target')?.textContent ?? '',
               [...item.querySelectorAll('.expected strong')].map(s => s.textContent),
             ]);",
            vec![],
        )
        .await;
    assert_eq!(
        shown,
        json!(findings),
        "each finding with both places and what to write"
    );
    browser.screenshot_tools("check").await;
}

#[tokio::test]
async fn interface_language_switches_and_is_remembered() {
    let Some((browser, _turn, _server)) = Browser::on_new_server().await else {
        return;
    };
    let labels = "return [document.documentElement.lang,
                          document.getElementById('draft-title').textContent,
                          document.getElementById('tab-lookup').textContent,
                          document.getElementById('tab-memory').textContent,
                          document.getElementById('tab-check').textContent]";
    assert_eq!(
        browser.run(labels, vec![]).await,
        json!([
            "en",
            "Draft",
            "Term lookup",
            "Translation memory",
            "Check translation"
        ]),
        "the browser's language (en-US) chooses English"
    );
    for (button, expected) in [
        (
            "ru",
            json!([
                "ru",
                "Черновик",
                "Поиск термина",
                "Память переводов",
                "Проверка перевода"
            ]),
        ),
        (
            "zh",
            json!(["zh-CN", "草稿", "术语查询", "翻译记忆", "译文检查"]),
        ),
    ] {
        browser
            .client
            .find(Locator::Css(&format!("[data-ui-lang={button}]")))
            .await
            .expect("language button")
            .click()
            .await
            .expect("clicked");
        assert_eq!(browser.run(labels, vec![]).await, expected);
    }
    browser.client.refresh().await.expect("reloaded");
    browser
        .wait_for(
            "the page after reload",
            "return !document.getElementById('app').hidden",
            vec![],
        )
        .await;
    assert_eq!(
        browser.run(labels, vec![]).await,
        json!(["zh-CN", "草稿", "术语查询", "翻译记忆", "译文检查"]),
        "the choice outlives a reload"
    );
}

#[tokio::test]
async fn sign_in_refuses_a_wrong_key_and_accepts_the_right_one() {
    let Some((browser, _turn)) = Browser::take_turn().await else {
        return;
    };
    let desk = NewKey {
        name: "desk-7".into(),
        role: Role::Reader,
        collections: Vec::new(),
        memories: Vec::new(),
        expires_ms: None,
    };
    let (server, secrets) = start_with_keys(vec![desk]).await;
    browser.open(&server).await;
    let shown = browser
        .run(
            "return [document.getElementById('login').hidden, document.getElementById('app').hidden]",
            vec![],
        )
        .await;
    assert_eq!(
        shown,
        json!([false, true]),
        "a keyed server asks for a key first"
    );

    let key_box = browser
        .client
        .find(Locator::Id("login-key"))
        .await
        .expect("key box");
    key_box.send_keys("tk_wrong_key").await.expect("typed");
    key_box.send_keys("\u{E007}").await.expect("enter");
    let error = browser
        .wait_for(
            "the refusal",
            "return document.getElementById('login-error').textContent || null",
            vec![],
        )
        .await;
    assert_eq!(
        error,
        json!("This key was not accepted. Check it and try again.")
    );
    browser.screenshot("login").await;

    key_box.clear().await.expect("cleared");
    key_box.send_keys(&secrets[0]).await.expect("typed");
    key_box.send_keys("\u{E007}").await.expect("enter");
    let signed_in = browser
        .wait_for(
            "the page after signing in",
            "return document.getElementById('app').hidden ? null
               : document.getElementById('session-name').textContent",
            vec![],
        )
        .await;
    assert!(
        signed_in.as_str().unwrap_or("").starts_with("desk-7"),
        "{signed_in}"
    );
    let stored = browser
        .run(
            "return JSON.stringify(localStorage) + document.cookie",
            vec![],
        )
        .await;
    assert!(
        !stored.as_str().unwrap_or("").contains(&secrets[0]),
        "the key is kept by no script-readable store"
    );

    // Signed in, the API answers the page; signing out asks for the key again.
    browser
        .run("document.getElementById('logout').click()", vec![])
        .await;
    browser
        .wait_for(
            "the sign-in form after signing out",
            "return !document.getElementById('login').hidden",
            vec![],
        )
        .await;
}
