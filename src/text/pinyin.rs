//! Hanyu Pinyin: the readings of Chinese terms, what a pinyin query says, and the pinyin a
//! reader is shown.
//!
//! Readings come per character from the `pinyin` crate (the pinyin-data tables, every
//! reading of a heteronym), which knows no words: its first reading of 行 is xíng, wrong in
//! 银行 yínháng. So the index keeps every combination of readings of a term (up to
//! [`MAX_READING_KEYS`], the likeliest first), keyed without tones or syllable boundaries,
//! and [`WORD_READINGS`] gives the reading of the common words whose characters' first
//! readings are wrong, for the pinyin shown to readers.
//!
//! A query is matched without syllable boundaries because toneless pinyin does not have
//! them (xian is 先 xiān or 西安 Xī'ān); boundaries, tones and apostrophes the query does
//! carry are checked against each candidate's readings afterwards ([`PinyinQuery::reads`]).

use std::collections::HashMap;
use std::sync::OnceLock;

use pinyin::{Pinyin, ToPinyinMulti};
use unicode_normalization::UnicodeNormalization;

use super::script::is_han;

/// Most toneless readings indexed per term: enough for the heteronym combinations of an
/// ordinary term (readings differing only in tone are one), bounded for long terms full of
/// them.
pub const MAX_READING_KEYS: usize = 8;

/// Longest query, in letters, read as pinyin: about twenty syllables.
const MAX_QUERY_LETTERS: usize = 128;

/// The reading of common words whose characters' first readings in the character data are
/// wrong there, written as Hanyu Pinyin writes the word on its own (capitals and the space
/// between a proper name and its generic part included). Longer words win over the words
/// they contain.
pub const WORD_READINGS: &[(&str, &str)] = &[
    // 长 cháng (first reading zhǎng)
    ("长江", "Cháng Jiāng"),
    ("长城", "Chángchéng"),
    ("长安", "Cháng'ān"),
    ("长沙", "Chángshā"),
    ("长春", "Chángchūn"),
    ("长征", "Chángzhēng"),
    ("长期", "chángqī"),
    ("长远", "chángyuǎn"),
    ("长久", "chángjiǔ"),
    ("长度", "chángdù"),
    ("长途", "chángtú"),
    ("长效", "chángxiào"),
    ("长足", "chángzú"),
    ("长河", "chánghé"),
    ("漫长", "màncháng"),
    ("延长", "yáncháng"),
    ("擅长", "shàncháng"),
    ("特长", "tècháng"),
    // 行 háng (first reading xíng)
    ("银行", "yínháng"),
    ("行业", "hángyè"),
    ("行长", "hángzhǎng"),
    ("行列", "hángliè"),
    ("行情", "hángqíng"),
    ("央行", "yāngháng"),
    ("亚投行", "Yàtóuháng"),
    ("总行", "zǒngháng"),
    ("分行", "fēnháng"),
    ("支行", "zhīháng"),
    ("商行", "shāngháng"),
    ("内行", "nèiháng"),
    ("外行", "wàiháng"),
    ("排行", "páiháng"),
    // 重 chóng (first reading zhòng)
    ("重庆", "Chóngqìng"),
    ("重新", "chóngxīn"),
    ("重复", "chóngfù"),
    ("重建", "chóngjiàn"),
    ("重申", "chóngshēn"),
    ("重组", "chóngzǔ"),
    ("重叠", "chóngdié"),
    ("重返", "chóngfǎn"),
    ("重启", "chóngqǐ"),
    ("重现", "chóngxiàn"),
    ("重温", "chóngwēn"),
    ("重塑", "chóngsù"),
    ("双重", "shuāngchóng"),
    // 都 dū (first reading dōu)
    ("首都", "shǒudū"),
    ("成都", "Chéngdū"),
    ("之都", "zhī dū"),
    ("古都", "gǔdū"),
    ("都市", "dūshì"),
    ("都城", "dūchéng"),
    ("定都", "dìngdū"),
    // 什 shí in names (first reading shén)
    ("比什凯克", "Bǐshíkǎikè"),
    ("塔什干", "Tǎshígān"),
    ("喀什", "Kāshí"),
    ("什叶派", "Shíyèpài"),
    // 应 yìng (first reading yīng)
    ("供应", "gōngyìng"),
    ("应对", "yìngduì"),
    ("应用", "yìngyòng"),
    ("回应", "huíyìng"),
    ("响应", "xiǎngyìng"),
    ("反应", "fǎnyìng"),
    ("适应", "shìyìng"),
    ("相应", "xiāngyìng"),
    ("效应", "xiàoyìng"),
    ("对应", "duìyìng"),
    ("应急", "yìngjí"),
    ("应邀", "yìngyāo"),
    ("顺应", "shùnyìng"),
    // 调 tiáo (first reading diào)
    ("协调", "xiétiáo"),
    ("调解", "tiáojiě"),
    ("调整", "tiáozhěng"),
    ("调节", "tiáojié"),
    ("调控", "tiáokòng"),
    ("调和", "tiáohé"),
    ("调停", "tiáotíng"),
    ("空调", "kōngtiáo"),
    // 处 chǔ (first reading chù)
    ("共处", "gòngchǔ"),
    ("处理", "chǔlǐ"),
    ("处置", "chǔzhì"),
    ("处于", "chǔyú"),
    ("相处", "xiāngchǔ"),
    ("处罚", "chǔfá"),
    ("处境", "chǔjìng"),
    // 干 gān (first reading gàn)
    ("干涉", "gānshè"),
    ("干预", "gānyù"),
    ("干扰", "gānrǎo"),
    ("若干", "ruògān"),
    ("干旱", "gānhàn"),
    // place and state names
    ("蒙古", "Měnggǔ"),
    ("阿塞拜疆", "Āsàibàijiāng"),
    ("塞尔维亚", "Sài'ěrwéiyà"),
    ("塞浦路斯", "Sàipǔlùsī"),
    ("尼泊尔", "Níbó'ěr"),
    ("缅甸", "Miǎndiàn"),
    ("朝鲜", "Cháoxiǎn"),
    ("厦门", "Xiàmén"),
    ("柏林", "Bólín"),
    ("六安", "Lù'ān"),
    ("济南", "Jǐnán"),
    ("西藏", "Xīzàng"),
    ("藏族", "Zàngzú"),
    // 子 zǐ where the data's first reading is the neutral suffix
    ("孔子", "Kǒngzǐ"),
    ("老子", "Lǎozǐ"),
    ("孟子", "Mèngzǐ"),
    ("电子", "diànzǐ"),
    ("原子", "yuánzǐ"),
    ("量子", "liàngzǐ"),
    ("因子", "yīnzǐ"),
    ("男子", "nánzǐ"),
    ("女子", "nǚzǐ"),
    ("分子", "fēnzǐ"),
    ("恐怖分子", "kǒngbù fènzǐ"),
    ("极端分子", "jíduān fènzǐ"),
    // other heteronyms
    ("差距", "chājù"),
    ("差异", "chāyì"),
    ("差别", "chābié"),
    ("误差", "wùchā"),
    ("偏差", "piānchā"),
    ("出差", "chūchāi"),
    ("率领", "shuàilǐng"),
    ("歌曲", "gēqǔ"),
    ("戏曲", "xìqǔ"),
    ("音乐", "yīnyuè"),
    ("乐团", "yuètuán"),
    ("会计", "kuàijì"),
    ("人参", "rénshēn"),
    ("反省", "fǎnxǐng"),
    ("勉强", "miǎnqiǎng"),
    ("投降", "tóuxiáng"),
    ("归还", "guīhuán"),
    ("偿还", "chánghuán"),
    ("还款", "huánkuǎn"),
    ("供给", "gōngjǐ"),
    ("补给", "bǔjǐ"),
    ("给予", "jǐyǔ"),
    ("作为", "zuòwéi"),
    ("行为", "xíngwéi"),
    ("认为", "rènwéi"),
    ("成为", "chéngwéi"),
    ("视为", "shìwéi"),
    ("称为", "chēngwéi"),
    ("为期", "wéiqī"),
    ("种植", "zhòngzhí"),
    ("首相", "shǒuxiàng"),
    ("外相", "wàixiàng"),
    ("真相", "zhēnxiàng"),
    ("上将", "shàngjiàng"),
    ("中将", "zhōngjiàng"),
    ("少将", "shàojiàng"),
    ("少年", "shàonián"),
    ("几乎", "jīhū"),
    ("灾难", "zāinàn"),
    ("难民", "nànmín"),
    ("遇难", "yùnàn"),
    ("避难", "bìnàn"),
    ("空白", "kòngbái"),
    ("空缺", "kòngquē"),
    ("间接", "jiànjiē"),
    ("间谍", "jiàndié"),
    ("角色", "juésè"),
    ("角逐", "juézhú"),
    ("关卡", "guānqiǎ"),
    ("厌恶", "yànwù"),
    ("爱好", "àihào"),
    ("睡觉", "shuìjiào"),
    ("尽管", "jǐnguǎn"),
    ("尽快", "jǐnkuài"),
    ("没收", "mòshōu"),
    ("淹没", "yānmò"),
    ("着手", "zhuóshǒu"),
    ("着重", "zhuózhòng"),
    ("着眼", "zhuóyǎn"),
    ("着力", "zhuólì"),
    ("着陆", "zhuólù"),
    ("正月", "zhēngyuè"),
    ("假期", "jiàqī"),
    ("假日", "jiàrì"),
    ("适当", "shìdàng"),
    ("恰当", "qiàdàng"),
    ("测量", "cèliáng"),
    ("衡量", "héngliáng"),
    ("创伤", "chuāngshāng"),
    ("中毒", "zhòngdú"),
    ("命中", "mìngzhòng"),
    ("薄弱", "bóruò"),
    ("中蒙俄", "Zhōng Měng É"),
];

/// One reading of a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Reading {
    /// Without tone, as the data writes it (`ü`, `ê`).
    plain: &'static str,
    /// With its tone mark.
    marked: &'static str,
    /// 1–4, or 0 for the neutral tone.
    tone: u8,
}

impl Reading {
    fn of(pinyin: Pinyin) -> Reading {
        let numbered = pinyin.with_tone_num_end();
        let tone = numbered
            .chars()
            .next_back()
            .and_then(|c| c.to_digit(10))
            .map_or(0, |d| d as u8);
        Reading {
            plain: pinyin.plain(),
            marked: pinyin.with_tone(),
            tone,
        }
    }

    /// The toneless letters a query spells this reading with (`ü` as `v`, `ê` as `e`), or
    /// `None` for a reading outside the Latin alphabet.
    fn key(self) -> Option<impl Iterator<Item = char>> {
        let letter = |c: char| match c {
            'ü' => Some('v'),
            'ê' => Some('e'),
            'a'..='z' => Some(c),
            _ => None,
        };
        self.plain
            .chars()
            .all(|c| letter(c).is_some())
            .then(|| self.plain.chars().filter_map(letter))
    }

    /// Whether it starts with a, o or e: after another syllable in a word, such a syllable
    /// is marked off with an apostrophe (Xī'ān).
    fn starts_with_vowel(self) -> bool {
        self.plain.starts_with(['a', 'o', 'e', 'ê'])
    }
}

/// Every reading of a character, the most common first; empty when the data has none.
fn readings(c: char) -> impl Iterator<Item = Reading> {
    c.to_pinyin_multi()
        .into_iter()
        .flat_map(|multi| multi.into_iter().map(Reading::of))
}

/// A reading of a word from [`WORD_READINGS`].
struct WordReading {
    /// As written on its own.
    display: &'static str,
    /// One reading per character.
    readings: Vec<Reading>,
}

/// [`WORD_READINGS`] by word, each aligned with its characters' readings. An entry whose
/// pinyin no reading of its characters spells is left out (the unit tests check there are
/// none).
fn word_readings() -> &'static HashMap<&'static str, WordReading> {
    static WORDS: OnceLock<HashMap<&'static str, WordReading>> = OnceLock::new();
    WORDS.get_or_init(|| {
        WORD_READINGS
            .iter()
            .filter_map(|&(word, display)| {
                let readings = align(word, display)?;
                Some((word, WordReading { display, readings }))
            })
            .collect()
    })
}

/// The readings of `word`'s characters that spell `display` (compared in lower case, without
/// spaces, apostrophes and hyphens).
fn align(word: &str, display: &str) -> Option<Vec<Reading>> {
    /// The readings of `chars` spelling `rest`, trying each reading of the first character
    /// (chā is a prefix of chāi).
    fn spell(chars: &[char], rest: &str, out: &mut Vec<Reading>) -> bool {
        let Some((&first, others)) = chars.split_first() else {
            return rest.is_empty();
        };
        for reading in readings(first) {
            if let Some(after) = rest.strip_prefix(reading.marked) {
                out.push(reading);
                if spell(others, after, out) {
                    return true;
                }
                out.pop();
            }
        }
        false
    }
    let spelled: String = display
        .chars()
        .filter(|c| !matches!(c, ' ' | '\'' | '-'))
        .flat_map(char::to_lowercase)
        .collect();
    let chars: Vec<char> = word.chars().collect();
    let mut out = Vec::with_capacity(chars.len());
    spell(&chars, &spelled, &mut out).then_some(out)
}

/// Longest word in [`WORD_READINGS`], in characters.
const LONGEST_WORD: usize = 4;

/// The reading of each character of `chars` in context: that of the longest word of
/// [`WORD_READINGS`] covering it, leftmost first, else the character's first reading;
/// `None` for a character without one.
fn readings_in_context(chars: &[char]) -> Vec<Option<Reading>> {
    let words = word_readings();
    let mut out: Vec<Option<Reading>> = Vec::with_capacity(chars.len());
    let mut buffer = String::new();
    let mut at = 0;
    while at < chars.len() {
        let longest = (2..=LONGEST_WORD.min(chars.len() - at))
            .rev()
            .find_map(|len| {
                buffer.clear();
                buffer.extend(&chars[at..at + len]);
                words.get(buffer.as_str())
            });
        match longest {
            Some(word) => {
                out.extend(word.readings.iter().copied().map(Some));
                at += word.readings.len();
            }
            None => {
                out.push(readings(chars[at]).next());
                at += 1;
            }
        }
    }
    out
}

/// The characters of a term that carry its reading: Han characters, with spaces and
/// punctuation left out. `None` when the term has no Han character or also has letters or
/// digits of another script, whose pinyin is not theirs to give.
fn han_only(term: &str) -> Option<Vec<char>> {
    let chars: Vec<char> = term.chars().filter(|c| c.is_alphanumeric()).collect();
    (!chars.is_empty() && chars.iter().all(|&c| is_han(c))).then_some(chars)
}

/// The toneless readings of a term as index keys: its syllables' letters run together (`ü`
/// as `v`), the reading in context first, then other combinations of heteronym readings,
/// likeliest first, at most [`MAX_READING_KEYS`]. Empty for a term that is not written in
/// Han characters only (see `han_only`) or has a character without a reading.
///
/// ```
/// use tolmach::text::pinyin::reading_keys;
///
/// assert_eq!(reading_keys("一带一路")[0], "yidaiyilu");
/// let bank = reading_keys("银行");
/// assert_eq!(bank[0], "yinhang");
/// assert!(bank.contains(&"yinxing".to_owned()));
/// assert!(reading_keys("G20峰会").is_empty());
/// ```
pub fn reading_keys(term: &str) -> Vec<String> {
    let Some(chars) = han_only(term) else {
        return Vec::new();
    };
    let in_context = readings_in_context(&chars);
    // Each character's distinct toneless syllables with their cost: 0 for the reading in
    // context, else the rank of the first reading spelled so.
    let mut syllables: Vec<Vec<(String, usize)>> = Vec::with_capacity(chars.len());
    for (&c, context) in chars.iter().zip(&in_context) {
        let mut options: Vec<(String, usize)> = Vec::new();
        let ranked = context
            .iter()
            .map(|&r| (r, 0))
            .chain(readings(c).enumerate().map(|(rank, r)| (r, rank + 1)));
        for (reading, cost) in ranked {
            let Some(letters) = reading.key() else {
                continue;
            };
            let syllable: String = letters.collect();
            if !options.iter().any(|(known, _)| *known == syllable) {
                options.push((syllable, cost));
            }
        }
        if options.is_empty() {
            return Vec::new();
        }
        syllables.push(options);
    }
    // Partial keys with their costs; keeping the cheapest few after each character keeps the
    // cheapest in all. Most terms have one syllable per character and one key.
    let mut partial: Vec<(String, usize)> = vec![(String::new(), 0)];
    for options in &syllables {
        let mut next: Vec<(String, usize)> = Vec::with_capacity(partial.len() * options.len());
        for (syllable, cost) in options {
            for (prefix, prefix_cost) in &partial {
                let mut key = String::with_capacity(prefix.len() + syllable.len());
                key.push_str(prefix);
                key.push_str(syllable);
                next.push((key, prefix_cost + cost));
            }
        }
        if next.len() > 1 {
            // Distinct keys, each at its lowest cost, cheapest first (ties by spelling).
            next.sort_unstable();
            next.dedup_by(|later, earlier| later.0 == earlier.0);
            next.sort_unstable_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            next.truncate(MAX_READING_KEYS);
        }
        partial = next;
    }
    partial.into_iter().map(|(key, _)| key).collect()
}

/// A query read as pinyin: its letters without tones or separators, and the tones and
/// syllable boundaries it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinyinQuery {
    /// Lower-case letters, `ü` as `v`: the index key.
    letters: String,
    /// (position of a letter in `letters`, tone 0–4) for each tone mark or tone number; a
    /// number counts for the letter before it.
    tones: Vec<(usize, u8)>,
    /// Positions in `letters` where the query separates syllables: a space, an apostrophe,
    /// a hyphen or a tone number.
    boundaries: Vec<usize>,
}

/// How the tones of a query agree with a term's reading, syllable by syllable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ToneAgreement {
    /// Syllables of the reading.
    pub syllables: usize,
    /// Syllables whose tone the query gives as read.
    pub agreeing: usize,
    /// Syllables whose tone the query gives otherwise, or leaves out while giving others.
    pub disagreeing: usize,
}

impl PinyinQuery {
    /// Reads `query` as pinyin: letters in any case and width, tone marks, tone numbers
    /// (0 and 5 for the neutral tone), `ü` also as `v` or `u:`, syllables or words apart or
    /// not, separated by spaces, apostrophes or hyphens. `None` for anything else: a query
    /// with other characters is not pinyin.
    ///
    /// ```
    /// use tolmach::text::pinyin::PinyinQuery;
    ///
    /// for spelling in ["yidaiyilu", "Yīdài Yīlù", "yi1dai4 yi1lu4", "YI-DAI-YI-LU"] {
    ///     assert_eq!(PinyinQuery::parse(spelling).unwrap().key(), "yidaiyilu");
    /// }
    /// assert_eq!(PinyinQuery::parse("lǜsè").unwrap().key(), "lvse");
    /// assert_eq!(PinyinQuery::parse("lu:4se4").unwrap().key(), "lvse");
    /// assert!(PinyinQuery::parse("一带一路").is_none());
    /// ```
    pub fn parse(query: &str) -> Option<PinyinQuery> {
        let mut parsed = PinyinQuery {
            letters: String::new(),
            tones: Vec::new(),
            boundaries: Vec::new(),
        };
        let folded: String = query.nfkc().flat_map(char::to_lowercase).collect();
        // Whether the previous character belongs to a syllable (a tone number may follow).
        let mut in_syllable = false;
        for c in folded.nfd() {
            let last = parsed.letters.len().checked_sub(1);
            match c {
                'a'..='z' => {
                    parsed.letters.push(c);
                    in_syllable = true;
                }
                '\u{304}' | '\u{301}' | '\u{30C}' | '\u{300}' if in_syllable => {
                    let tone = match c {
                        '\u{304}' => 1,
                        '\u{301}' => 2,
                        '\u{30C}' => 3,
                        _ => 4,
                    };
                    parsed.tones.push((last?, tone));
                }
                // ü, typed with a diaeresis or as u:
                '\u{308}' | ':' if in_syllable && parsed.letters.ends_with('u') => {
                    parsed.letters.pop();
                    parsed.letters.push('v');
                }
                // ê
                '\u{302}' if in_syllable && parsed.letters.ends_with('e') => {}
                '0'..='5' if in_syllable => {
                    let tone = c.to_digit(10).map_or(0, |d| (d % 5) as u8);
                    parsed.tones.push((last?, tone));
                    parsed.boundary();
                    in_syllable = false;
                }
                ' ' | '\'' | '’' | '‘' | 'ʼ' | '-' | '·' => {
                    parsed.boundary();
                    in_syllable = false;
                }
                c if c.is_whitespace() => {
                    parsed.boundary();
                    in_syllable = false;
                }
                _ => return None,
            }
        }
        let len = parsed.letters.len();
        parsed.boundaries.retain(|&at| at < len);
        (len > 0 && len <= MAX_QUERY_LETTERS).then_some(parsed)
    }

    /// Notes a syllable boundary at the current end of the letters.
    fn boundary(&mut self) {
        let at = self.letters.len();
        if at > 0 && self.boundaries.last() != Some(&at) {
            self.boundaries.push(at);
        }
    }

    /// The letters, without tones or separators: what [`reading_keys`] gives for a term that
    /// reads so.
    pub fn key(&self) -> &str {
        &self.letters
    }

    /// Whether `term` reads as this query, and how well the query's tones agree with the
    /// best such reading: its syllables must spell the query's letters, end wherever the
    /// query separates syllables, and (when the query gives tones) carry them. `None` when no
    /// reading spells the query.
    pub fn reads(&self, term: &str) -> Option<ToneAgreement> {
        let chars = han_only(term)?;
        let letters = self.letters.as_bytes();
        let toned = !self.tones.is_empty();
        // best[p]: the best (fewest disagreeing, most agreeing) tones over the characters so
        // far, with their readings spelling `letters[..p]`.
        let mut best: Vec<Option<(usize, usize)>> = vec![None; letters.len() + 1];
        best[0] = Some((0, 0));
        for &c in &chars {
            let mut next: Vec<Option<(usize, usize)>> = vec![None; letters.len() + 1];
            for (start, state) in best.iter().enumerate() {
                let Some((disagreeing, agreeing)) = *state else {
                    continue;
                };
                for reading in readings(c) {
                    let Some(end) = spelled_at(reading, letters, start) else {
                        continue;
                    };
                    if self.boundaries.iter().any(|&b| start < b && b < end) {
                        continue;
                    }
                    let given = self.tones.iter().find(|(at, _)| (start..end).contains(at));
                    let agrees = match given {
                        Some(&(_, tone)) => tone == reading.tone,
                        // A query with tones leaves out only the neutral one.
                        None => !toned || reading.tone == 0,
                    };
                    let state = if !toned {
                        (0, 0)
                    } else if agrees {
                        (disagreeing, agreeing + 1)
                    } else {
                        (disagreeing + 1, agreeing)
                    };
                    let slot = &mut next[end];
                    if slot.is_none_or(|(d, a)| {
                        (state.0, std::cmp::Reverse(state.1)) < (d, std::cmp::Reverse(a))
                    }) {
                        *slot = Some(state);
                    }
                }
            }
            best = next;
        }
        best[letters.len()].map(|(disagreeing, agreeing)| ToneAgreement {
            syllables: chars.len(),
            agreeing,
            disagreeing,
        })
    }
}

/// Where `reading` ends if it is spelled in `letters` from `start`.
fn spelled_at(reading: Reading, letters: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    for c in reading.key()? {
        if letters.get(at) != Some(&(c as u8)) {
            return None;
        }
        at += 1;
    }
    Some(at)
}

/// The pinyin of a Chinese term as a reader is shown it: tone marks, syllables of a word
/// together and words apart (by the segmenter's word division, with generic parts such as
/// 共和国 or 自治区 apart from the name before them), names of places and people
/// capitalized (a person's surname apart), an apostrophe before a syllable starting with a,
/// o or e inside a word, the common heteronym words of [`WORD_READINGS`] as they read.
/// Other characters are kept as written. Empty for text without Han characters.
///
/// ```
/// use tolmach::text::pinyin::display;
///
/// assert_eq!(display("银行"), "yínháng");
/// assert_eq!(display("西安"), "Xī'ān");
/// assert_eq!(display("Shanghai"), "");
/// ```
pub fn display(term: &str) -> String {
    if !term.chars().any(is_han) {
        return String::new();
    }
    let chars: Vec<char> = term.chars().collect();
    let in_context = readings_in_context(&chars);
    let mut pieces: Vec<(Piece, String)> = Vec::new();
    let words = word_readings();
    for word in super::segmenter().tag(term, true) {
        let (start, end) = (word.start, word.end.min(chars.len()));
        let text = &chars[start..end];
        if !text.iter().any(|&c| is_han(c)) {
            for c in text {
                push_other(&mut pieces, *c);
            }
            continue;
        }
        if let Some(known) = words.get(word.word) {
            pieces.push((Piece::Word, known.display.to_owned()));
            continue;
        }
        let proper = matches!(word.tag, "ns" | "nrt" | "nrfg");
        let mut parts = Vec::new();
        if word.tag == "nrfg" && (2..=3).contains(&text.len()) {
            // A person's full name: surname, given name.
            parts.extend([0..1, 1..text.len()]);
        } else {
            split_generic(text, word.tag == "ns", &mut parts);
        }
        for part in parts {
            let readings = &in_context[start + part.start..start + part.end];
            let spelled = spell_word(&text[part], readings);
            let spelled = if proper {
                capitalized(&spelled)
            } else {
                spelled
            };
            pieces.push((Piece::Word, spelled));
        }
    }
    join(pieces)
}

/// The generic parts of names written apart from the name before them (吉尔吉斯 Gònghéguó,
/// 新疆维吾尔 Zìzhìqū), when the segmenter gives name and generic part as one word.
const GENERIC_PARTS: &[&str] = &[
    "共和国",
    "王国",
    "联邦",
    "自治区",
    "自治州",
    "人民政府",
    "委员会",
    "理事会",
];

/// Generic parts written apart only after a place name (上海 Shì), since as the end of
/// a common word they belong to it (示范区).
const PLACE_GENERIC_PARTS: &[&str] = &["省", "市", "县"];

/// Splits a word into its name and generic parts, as ranges of `word`, in order; `place`
/// when the word is a place name.
fn split_generic(word: &[char], place: bool, parts: &mut Vec<std::ops::Range<usize>>) {
    let place_parts = if place { PLACE_GENERIC_PARTS } else { &[] };
    let generic = GENERIC_PARTS.iter().chain(place_parts).find_map(|part| {
        let len = part.chars().count();
        let tail = word.len().checked_sub(len)?;
        // The name before it is a word of its own: two characters or more.
        (tail >= 2 && word[tail..].iter().copied().eq(part.chars())).then_some(tail)
    });
    match generic {
        Some(tail) => {
            split_generic(&word[..tail], place, parts);
            parts.push(tail..word.len());
        }
        None => parts.push(0..word.len()),
    }
}

/// The syllables of one word run together, with an apostrophe before a syllable starting
/// with a, o or e that follows another.
fn spell_word(text: &[char], readings: &[Option<Reading>]) -> String {
    let mut spelled = String::new();
    for (i, (&c, reading)) in text.iter().zip(readings).enumerate() {
        let Some(reading) = *reading else {
            spelled.push(c);
            continue;
        };
        // The neutral tone never starts a word of several syllables: 子 in 子女 is zǐ.
        let reading = if i == 0 && text.len() > 1 && reading.tone == 0 {
            readings_of_tone(c).unwrap_or(reading)
        } else {
            reading
        };
        if i > 0 && reading.starts_with_vowel() {
            spelled.push('\'');
        }
        spelled.push_str(reading.marked);
    }
    spelled
}

/// The first reading of a character with a full tone.
fn readings_of_tone(c: char) -> Option<Reading> {
    readings(c).find(|r| r.tone != 0)
}

/// What a piece of displayed pinyin is, for spacing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Piece {
    /// A word, a number or other text: set apart by spaces.
    Word,
    /// An opening bracket or quotation mark: a space before, none after.
    Opening,
    /// A comma, a closing bracket or quotation mark: none before, a space after.
    Closing,
    /// A dash or anything else: no space either side.
    Joining,
}

/// Adds a character that is not Han to the pieces: Chinese punctuation as its Latin
/// counterpart, letters and digits joined into words.
fn push_other(pieces: &mut Vec<(Piece, String)>, c: char) {
    let c = match c {
        '，' | '、' => ',',
        '。' => '.',
        '：' => ':',
        '；' => ';',
        '（' => '(',
        '）' => ')',
        '《' => '«',
        '》' => '»',
        other => other,
    };
    let kind = match c {
        c if c.is_whitespace() => return,
        c if c.is_alphanumeric() => Piece::Word,
        '(' | '[' | '«' | '“' | '‘' => Piece::Opening,
        ',' | '.' | ':' | ';' | ')' | ']' | '»' | '”' | '’' | '+' | '!' | '?' => {
            Piece::Closing
        }
        // A straight quotation mark opens or closes by count.
        '"' => {
            let open = pieces.iter().filter(|(_, t)| t == "\"").count() % 2 == 0;
            if open {
                Piece::Opening
            } else {
                Piece::Closing
            }
        }
        _ => Piece::Joining,
    };
    match pieces.last_mut() {
        Some((Piece::Word, text)) if kind == Piece::Word && text.chars().all(|c| !is_han(c)) => {
            // Letters and digits that the segmenter split stay one word when they were one;
            // only a previous piece of the same run is extended.
            if text.chars().next_back().is_some_and(char::is_alphanumeric)
                && !text.chars().any(|c| c.is_alphabetic() && !c.is_ascii())
            {
                text.push(c);
                return;
            }
            pieces.push((kind, c.to_string()));
        }
        _ => pieces.push((kind, c.to_string())),
    }
}

/// The pieces with spaces between words, around brackets and after commas.
fn join(pieces: Vec<(Piece, String)>) -> String {
    let mut out = String::new();
    let mut previous: Option<Piece> = None;
    for (kind, text) in pieces {
        let spaced = matches!(previous, Some(Piece::Word | Piece::Closing))
            && matches!(kind, Piece::Word | Piece::Opening);
        if spaced {
            out.push(' ');
        }
        out.push_str(&text);
        previous = Some(kind);
    }
    out
}

/// `text` with its first letter in upper case.
fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reading_is_spelled_by_its_characters_readings() {
        for (word, display) in WORD_READINGS {
            assert!(align(word, display).is_some(), "{word} {display}");
            assert!(word.chars().count() <= LONGEST_WORD, "{word}");
        }
    }

    #[test]
    fn parses_tones_and_boundaries_however_typed() {
        let query = PinyinQuery::parse("Yī dài yílù").unwrap();
        assert_eq!(query.key(), "yidaiyilu");
        assert_eq!(query.tones, [(1, 1), (3, 4), (6, 2), (8, 4)]);
        assert_eq!(query.boundaries, [2, 5]);
        let query = PinyinQuery::parse("yi1dai4yi1lu4").unwrap();
        assert_eq!(query.tones, [(1, 1), (4, 4), (6, 1), (8, 4)]);
        assert_eq!(query.boundaries, [2, 5, 7]);
        let query = PinyinQuery::parse("xi'an").unwrap();
        assert_eq!((query.key(), &query.boundaries[..]), ("xian", &[2][..]));
        assert!(query.tones.is_empty());
        assert_eq!(PinyinQuery::parse("NǙ").unwrap().key(), "nv");
        assert_eq!(PinyinQuery::parse("nv3").unwrap().tones, [(1, 3)]);
        assert_eq!(PinyinQuery::parse("ma5").unwrap().tones, [(1, 0)]);
        assert_eq!(PinyinQuery::parse(" ｘｉ’ａｎ ").unwrap().key(), "xian");
        for not_pinyin in ["", "  ", "1yi", "yi7", "s.c.o", "一带", "Шанхай", "ü:"] {
            assert_eq!(PinyinQuery::parse(not_pinyin), None, "{not_pinyin:?}");
        }
    }

    #[test]
    fn toneless_queries_match_without_syllable_boundaries() {
        let query = PinyinQuery::parse("xian").unwrap();
        assert!(query.reads("西安").is_some());
        assert!(query.reads("先").is_some());
        // An apostrophe or tone number splits syllables where the query says.
        assert!(PinyinQuery::parse("xi'an").unwrap().reads("先").is_none());
        assert!(PinyinQuery::parse("xi1an1").unwrap().reads("先").is_none());
        assert!(PinyinQuery::parse("xian1").unwrap().reads("西安").is_some());
        assert!(PinyinQuery::parse("xiana").unwrap().reads("西安").is_none());
    }

    #[test]
    fn tones_agree_with_the_best_reading() {
        let agreement = |query: &str, term: &str| {
            let a = PinyinQuery::parse(query).unwrap().reads(term).unwrap();
            (a.agreeing, a.disagreeing)
        };
        assert_eq!(agreement("yinhang", "银行"), (0, 0));
        assert_eq!(agreement("yínháng", "银行"), (2, 0));
        assert_eq!(agreement("yin2xing2", "银行"), (2, 0));
        assert_eq!(agreement("yínhàng", "银行"), (2, 0));
        assert_eq!(agreement("yīnhāng", "银行"), (0, 2));
        // A query with tones that leaves a syllable without one.
        assert_eq!(agreement("yínhang", "银行"), (1, 1));
        // Tone sandhi of 一 is among its readings.
        assert_eq!(agreement("yídài yílù", "一带一路"), (4, 0));
        assert_eq!(agreement("xiān", "先"), (1, 0));
        assert_eq!(agreement("xiān", "西安"), (1, 1));
    }

    #[test]
    fn keys_cover_every_heteronym_reading_the_likeliest_first() {
        assert_eq!(reading_keys("长江")[0], "changjiang");
        assert!(reading_keys("长江").contains(&"zhangjiang".to_owned()));
        assert_eq!(reading_keys("重庆")[0], "chongqing");
        assert_eq!(reading_keys("重要")[0], "zhongyao");
        assert_eq!(reading_keys("绿色"), ["lvse", "luse", "lvshai", "lushai"]);
        // Punctuation is skipped; letters or digits of another script mean no reading.
        assert_eq!(reading_keys("“一带一路”")[0], "yidaiyilu");
        assert!(reading_keys("上合组织成立25周年").is_empty());
        assert!(reading_keys("SCO").is_empty());
        // Many heteronyms: capped, the first readings first.
        let keys = reading_keys("和和和和和和和和");
        assert_eq!(keys.len(), MAX_READING_KEYS);
        assert_eq!(keys[0], "hehehehehehehehe");
        assert_eq!(keys[1], "hehehehehehehehu");
    }

    #[test]
    fn displays_words_names_and_punctuation() {
        assert_eq!(display("长江"), "Cháng Jiāng");
        assert_eq!(display("上海精神"), "Shànghǎi jīngshén");
        // A full name: surname apart; a generic part apart from the name.
        assert_eq!(display("习近平主席"), "Xí Jìnpíng zhǔxí");
        assert_eq!(display("吉尔吉斯共和国"), "Jí'ěrjísī Gònghéguó");
        assert_eq!(display("上海市"), "Shànghǎi Shì");
        assert_eq!(display("上合示范区"), "shànghé shìfànqū");
        // 的 alone keeps its neutral tone.
        assert_eq!(display("真正的多边主义"), "zhēnzhèng de duōbiān zhǔyì");
        assert_eq!(
            display("共建“一带一路”倡议"),
            "gòngjiàn “yīdài yīlù” chàngyì"
        );
        assert_eq!(
            display("共建\"一带一路\"倡议"),
            "gòngjiàn \"yīdài yīlù\" chàngyì"
        );
        assert_eq!(display("成立25周年"), "chénglì 25 zhōunián");
        assert_eq!(display("中国（新疆）"), "Zhōngguó (Xīnjiāng)");
        assert_eq!(display("文化、信息"), "wénhuà, xìnxī");
        assert_eq!(display("中国—中亚"), "Zhōngguó—Zhōngyà");
    }
}
