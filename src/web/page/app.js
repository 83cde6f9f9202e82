// The newsroom page's behaviour: the session and sign-in, the draft recognised as it is typed
// (a highlighted mirror under the textarea), the term card, the list of terms found, term
// lookup, translation-memory search, translation checks and live glossary updates. It talks
// only to the same-origin JSON API under /api (see src/web/api.rs) and keeps no secret: the
// session is an HttpOnly cookie; only the interface language is remembered (localStorage).
// Every span the API returns is in UTF-16 code units, which is how JavaScript strings index,
// so offsets are used with String.prototype.slice as they come.

const LANGS = ['zh', 'ru', 'en'];
const UI_LANG_KEY = 'tolmach.ui-lang';
const RECOGNIZE_DELAY_MS = 300;
const LOOKUP_DELAY_MS = 300;
const HOVER_OPEN_MS = 220;
const HOVER_CLOSE_MS = 300;
const NOTICE_MS = 7000;

/** Status order of a concept's terms: the ones to use first. */
const USE_RANK = { preferred: 0, admitted: 1, superseded: 2, deprecated: 3, forbidden: 4 };
/** Status order of the terms list: warnings first, then historical names, then the rest. */
const ATTENTION_RANK = { forbidden: 0, deprecated: 1, superseded: 2 };
const WARNING_STATUSES = new Set(['forbidden', 'deprecated']);

const MESSAGES = {
  en: {
    skip_to_draft: 'Skip to the draft',
    tagline: 'Terminology and translation memory',
    live: 'Live updates',
    ui_language: 'Interface language',
    logout: 'Sign out',
    login_title: 'Sign in to Tolmach',
    login_hint: 'This server asks for an API key. Your terminologist or administrator can issue one.',
    api_key: 'API key',
    sign_in: 'Sign in',
    login_bad_key: 'This key was not accepted. Check it and try again.',
    login_empty: 'Enter your API key.',
    draft: 'Draft',
    language: 'Language',
    auto_detect: 'Detect',
    lang_zh: 'Chinese',
    lang_ru: 'Russian',
    lang_en: 'English',
    clear: 'Clear',
    legend_term: 'glossary term',
    legend_superseded: 'former name',
    legend_deprecated: 'deprecated',
    legend_forbidden: 'forbidden',
    draft_label: 'Draft text',
    draft_placeholder: 'Paste or type a draft in Chinese, Russian or English: glossary terms are marked as you write.',
    terms_found: 'Terms in the draft',
    terms_empty: 'Glossary terms found in the draft appear here, warnings first.',
    tools: 'Tools',
    lookup: 'Term lookup',
    memory: 'Translation memory',
    check: 'Check translation',
    lookup_label: 'Term to look up',
    lookup_placeholder: 'A term, even misspelt, inflected or in pinyin: yidaiyilu, Шанхайского духа, Shangai Spirit',
    search: 'Search',
    memory_label: 'Source sentence',
    memory_placeholder: 'A source sentence: earlier translations of it and of similar sentences',
    from: 'From',
    to: 'To',
    swap: 'Swap languages',
    from_draft: 'Sentence at the cursor',
    source_text: 'Source',
    target_text: 'Translation',
    source_lang: 'Source language',
    target_lang: 'Target language',
    use_draft: 'Use the draft',
    run_check: 'Check terms',
    check_unavailable: 'Translation checks are not available on this server.',
    st_preferred: 'preferred',
    st_admitted: 'admitted',
    st_superseded: 'former name',
    st_deprecated: 'deprecated',
    st_forbidden: 'forbidden',
    kind_exact: 'exact',
    kind_normalized: 'normalized',
    kind_stemmed: 'word form',
    kind_fuzzy: 'fuzzy',
    kind_partial: 'partial',
    kind_pinyin: 'pinyin',
    type_acronym: 'acronym',
    type_abbreviation: 'abbreviation',
    type_shortForm: 'short form',
    type_variant: 'variant',
    type_phrase: 'phrase',
    copy: 'Copy',
    copied: 'Copied',
    copy_label: 'Copy “{text}”',
    copied_status: 'Copied “{text}”',
    copy_failed: 'Copying failed: select the text and copy it by hand.',
    close: 'Close',
    warn_forbidden: '“{surface}” must not be used.',
    warn_deprecated: '“{surface}” is deprecated.',
    historical: '“{surface}” is a former name.',
    use: 'Use:',
    now: 'now:',
    definition: 'Definition',
    checking: 'Looking for glossary terms…',
    draft_counts: 'Terms: {terms} · warnings: {warnings}',
    none_found: 'No glossary terms in this draft.',
    omitted: '{n} more not shown',
    lookup_none: 'Nothing found.',
    results_count: 'Results: {n}',
    memory_none: 'No earlier translation is close enough.',
    memory_adapted: 'numbers adapted',
    memory_source: 'In memory',
    memory_target: 'Translation',
    match: 'match',
    glossary_updated: 'Glossary updated: {what}. The draft was checked again.',
    glossary_deleted: 'removed',
    err_busy: 'The server is busy; try again in a moment.',
    err_too_long: 'The text is too long for one request.',
    err_network: 'The server cannot be reached.',
    err_forbidden: 'Your key does not allow this.',
    info: '{concepts} concepts · {collections} collections · {memories} memories',
    role_reader: 'reader',
    role_editor: 'editor',
    role_admin: 'administrator',
    open_server: 'open server',
    check_ok: 'Every glossary term of the source is rendered as the glossary says.',
    check_expected: 'Expected:',
    check_missing: 'not found in the translation',
    check_counts: 'Findings: {n}',
    in_source: 'Source',
    in_target: 'Translation',
    finding_missing_term: 'missing term',
    finding_deprecated_used: 'deprecated term',
    finding_forbidden_used: 'forbidden term',
    finding_number_mismatch: 'number',
  },
  ru: {
    skip_to_draft: 'Перейти к черновику',
    tagline: 'Терминология и память переводов',
    live: 'Автообновление',
    ui_language: 'Язык интерфейса',
    logout: 'Выйти',
    login_title: 'Вход в Tolmach',
    login_hint: 'Для работы с этим сервером нужен API-ключ. Его выдаёт терминолог или администратор.',
    api_key: 'API-ключ',
    sign_in: 'Войти',
    login_bad_key: 'Ключ не принят. Проверьте его и попробуйте ещё раз.',
    login_empty: 'Введите API-ключ.',
    draft: 'Черновик',
    language: 'Язык',
    auto_detect: 'Автоопределение',
    lang_zh: 'Китайский',
    lang_ru: 'Русский',
    lang_en: 'Английский',
    clear: 'Очистить',
    legend_term: 'термин глоссария',
    legend_superseded: 'прежнее название',
    legend_deprecated: 'нерекомендуемый',
    legend_forbidden: 'запрещённый',
    draft_label: 'Текст черновика',
    draft_placeholder: 'Вставьте или наберите черновик на китайском, русском или английском: термины глоссария отмечаются по ходу набора.',
    terms_found: 'Термины в тексте',
    terms_empty: 'Здесь появятся найденные в черновике термины; предупреждения — первыми.',
    tools: 'Инструменты',
    lookup: 'Поиск термина',
    memory: 'Память переводов',
    check: 'Проверка перевода',
    lookup_label: 'Искомый термин',
    lookup_placeholder: 'Термин — можно с опечаткой, в любой форме или пиньинем: yidaiyilu, Шанхайского духа',
    search: 'Найти',
    memory_label: 'Исходное предложение',
    memory_placeholder: 'Исходное предложение: найдутся прежние переводы его и похожих предложений',
    from: 'С языка',
    to: 'на',
    swap: 'Поменять языки местами',
    from_draft: 'Предложение у курсора',
    source_text: 'Оригинал',
    target_text: 'Перевод',
    source_lang: 'Язык оригинала',
    target_lang: 'Язык перевода',
    use_draft: 'Взять черновик',
    run_check: 'Проверить термины',
    check_unavailable: 'Проверка перевода на этом сервере недоступна.',
    st_preferred: 'предпочтительный',
    st_admitted: 'допустимый',
    st_superseded: 'прежнее название',
    st_deprecated: 'нерекомендуемый',
    st_forbidden: 'запрещённый',
    kind_exact: 'точное',
    kind_normalized: 'с нормализацией',
    kind_stemmed: 'словоформа',
    kind_fuzzy: 'нечёткое',
    kind_partial: 'частичное',
    kind_pinyin: 'пиньинь',
    type_acronym: 'аббревиатура',
    type_abbreviation: 'сокращение',
    type_shortForm: 'краткая форма',
    type_variant: 'вариант',
    type_phrase: 'словосочетание',
    copy: 'Копировать',
    copied: 'Скопировано',
    copy_label: 'Копировать «{text}»',
    copied_status: 'Скопировано: «{text}»',
    copy_failed: 'Скопировать не удалось: выделите текст и скопируйте вручную.',
    close: 'Закрыть',
    warn_forbidden: '«{surface}» — запрещённый вариант.',
    warn_deprecated: '«{surface}» — нерекомендуемый вариант.',
    historical: '«{surface}» — прежнее название.',
    use: 'Пишите:',
    now: 'ныне:',
    definition: 'Определение',
    checking: 'Ищем термины…',
    draft_counts: 'Терминов: {terms} · предупреждений: {warnings}',
    none_found: 'Терминов глоссария в тексте нет.',
    omitted: 'ещё {n} не показано',
    lookup_none: 'Ничего не найдено.',
    results_count: 'Найдено: {n}',
    memory_none: 'Достаточно близких прежних переводов нет.',
    memory_adapted: 'числа подставлены',
    memory_source: 'В памяти',
    memory_target: 'Перевод',
    match: 'совпадение',
    glossary_updated: 'Глоссарий обновлён: {what}. Черновик проверен заново.',
    glossary_deleted: 'удалено',
    err_busy: 'Сервер занят, повторите чуть позже.',
    err_too_long: 'Текст слишком длинный для одного запроса.',
    err_network: 'Сервер недоступен.',
    err_forbidden: 'Ваш ключ не даёт на это прав.',
    info: 'Понятий: {concepts} · коллекций: {collections} · баз памяти: {memories}',
    role_reader: 'читатель',
    role_editor: 'редактор',
    role_admin: 'администратор',
    open_server: 'открытый сервер',
    check_ok: 'Все термины оригинала переведены так, как требует глоссарий.',
    check_expected: 'Ожидается:',
    check_missing: 'в переводе не найден',
    check_counts: 'Замечаний: {n}',
    in_source: 'Оригинал',
    in_target: 'Перевод',
    finding_missing_term: 'нет термина',
    finding_deprecated_used: 'нерекомендуемый термин',
    finding_forbidden_used: 'запрещённый термин',
    finding_number_mismatch: 'число',
  },
  zh: {
    skip_to_draft: '跳到草稿',
    tagline: '术语库与翻译记忆',
    live: '实时更新',
    ui_language: '界面语言',
    logout: '退出',
    login_title: '登录 Tolmach',
    login_hint: '此服务器需要 API 密钥，可向术语管理员或系统管理员申请。',
    api_key: 'API 密钥',
    sign_in: '登录',
    login_bad_key: '密钥无效，请检查后重试。',
    login_empty: '请输入 API 密钥。',
    draft: '草稿',
    language: '语言',
    auto_detect: '自动识别',
    lang_zh: '中文',
    lang_ru: '俄文',
    lang_en: '英文',
    clear: '清空',
    legend_term: '术语',
    legend_superseded: '旧称',
    legend_deprecated: '不推荐',
    legend_forbidden: '禁用',
    draft_label: '草稿正文',
    draft_placeholder: '粘贴或输入中文、俄文或英文草稿，术语将随输入实时标出。',
    terms_found: '文中术语',
    terms_empty: '草稿中识别出的术语将列在此处，需注意的排在前面。',
    tools: '工具',
    lookup: '术语查询',
    memory: '翻译记忆',
    check: '译文检查',
    lookup_label: '要查询的术语',
    lookup_placeholder: '输入术语，可有拼写错误、词形变化或用拼音：yidaiyilu、Шанхайского духа',
    search: '查询',
    memory_label: '原文句子',
    memory_placeholder: '输入原文句子，查找该句及相似句的既有译文',
    from: '源语言',
    to: '目标语言',
    swap: '交换语言',
    from_draft: '取光标所在句',
    source_text: '原文',
    target_text: '译文',
    source_lang: '源语言',
    target_lang: '目标语言',
    use_draft: '使用草稿',
    run_check: '检查术语',
    check_unavailable: '此服务器不支持译文检查。',
    st_preferred: '首选',
    st_admitted: '许用',
    st_superseded: '旧称',
    st_deprecated: '不推荐',
    st_forbidden: '禁用',
    kind_exact: '精确',
    kind_normalized: '规范化',
    kind_stemmed: '词形',
    kind_fuzzy: '模糊',
    kind_partial: '部分',
    kind_pinyin: '拼音',
    type_acronym: '首字母缩略词',
    type_abbreviation: '缩写',
    type_shortForm: '简称',
    type_variant: '变体',
    type_phrase: '短语',
    copy: '复制',
    copied: '已复制',
    copy_label: '复制“{text}”',
    copied_status: '已复制“{text}”',
    copy_failed: '复制失败，请选中文字后手动复制。',
    close: '关闭',
    warn_forbidden: '“{surface}”为禁用译法。',
    warn_deprecated: '“{surface}”不推荐使用。',
    historical: '“{surface}”为旧称。',
    use: '请用：',
    now: '现称：',
    definition: '定义',
    checking: '正在识别术语…',
    draft_counts: '术语 {terms} 处 · 警告 {warnings} 处',
    none_found: '草稿中未发现术语。',
    omitted: '另有 {n} 处未显示',
    lookup_none: '未找到匹配术语。',
    results_count: '共 {n} 条结果',
    memory_none: '翻译记忆中没有足够相近的译文。',
    memory_adapted: '已替换数字',
    memory_source: '记忆库原文',
    memory_target: '译文',
    match: '匹配度',
    glossary_updated: '术语库已更新：{what}。已重新检查草稿。',
    glossary_deleted: '已删除',
    err_busy: '服务器繁忙，请稍后再试。',
    err_too_long: '文本过长，超出单次请求上限。',
    err_network: '无法连接服务器。',
    err_forbidden: '您的密钥无此权限。',
    info: '概念 {concepts} 个 · 术语集 {collections} 个 · 翻译记忆库 {memories} 个',
    role_reader: '只读',
    role_editor: '编辑',
    role_admin: '管理员',
    open_server: '开放服务器',
    check_ok: '原文术语均已按术语库译出。',
    check_expected: '应译为：',
    check_missing: '译文中未出现',
    check_counts: '问题 {n} 处',
    in_source: '原文',
    in_target: '译文',
    finding_missing_term: '漏译术语',
    finding_deprecated_used: '不推荐术语',
    finding_forbidden_used: '禁用术语',
    finding_number_mismatch: '数字',
  },
};

// ---------------------------------------------------------------------------------------------
// Small helpers

const $ = (id) => document.getElementById(id);

/** Creates an element with attributes (class, dataset via data-*, boolean `hidden`) and children. */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function debounce(fn, ms) {
  let timer = 0;
  const run = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  run.now = (...args) => {
    clearTimeout(timer);
    fn(...args);
  };
  return run;
}

// ---------------------------------------------------------------------------------------------
// Interface language

const ui = { lang: 'en' };

function initialUiLang() {
  const saved = localStorage.getItem(UI_LANG_KEY);
  if (saved && MESSAGES[saved]) return saved;
  for (const tag of navigator.languages || [navigator.language || 'en']) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (MESSAGES[base]) return base;
  }
  return 'en';
}

/** The message `key` in the interface language, with `{name}` placeholders filled in. */
function t(key, vars = {}) {
  const template = MESSAGES[ui.lang][key] ?? MESSAGES.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

function applyUiLang(lang) {
  ui.lang = lang;
  document.documentElement.lang = htmlLang(lang);
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]')) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of document.querySelectorAll('[data-i18n-aria-label]')) {
    node.setAttribute('aria-label', t(node.dataset.i18nAriaLabel));
  }
  for (const button of document.querySelectorAll('[data-ui-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.uiLang === lang));
  }
  rerenderAll();
}

const statusLabel = (status) => t(`st_${status}`);
const kindLabel = (kind) => t(`kind_${kind}`);
/** TBX's termType in words where the page knows it (a full form goes without saying). */
const typeLabel = (type) => (MESSAGES.en[`type_${type}`] ? t(`type_${type}`) : type);
const langLabel = (lang) => (MESSAGES.en[`lang_${lang}`] ? t(`lang_${lang}`) : lang);
const htmlLang = (lang) => (lang === 'zh' ? 'zh-CN' : lang);

// ---------------------------------------------------------------------------------------------
// The JSON API

/** An error the API answered (`{"error": {code, message, field}}`) or a network failure. */
class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

async function api(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', t('err_network'), '');
  }
  const payload = await response.json().catch(() => null);
  if (!response.ok) {
    const error = payload?.error ?? {};
    throw new ApiError(response.status, error.code ?? '', error.message ?? response.statusText, error.field ?? '');
  }
  return payload ?? {};
}

/** What to tell the editor about a failed call; a lost session shows the sign-in form. */
function explain(error) {
  if (!(error instanceof ApiError)) return String(error);
  if (error.status === 401 && !session.open) showLogin();
  if (error.status === 0) return t('err_network');
  if (error.status === 403) return t('err_forbidden');
  if (error.status === 413) return t('err_too_long');
  if (error.status === 429 || error.status === 503) return t('err_busy');
  return error.message;
}

function showError(message) {
  const banner = $('error-banner');
  banner.textContent = message;
  banner.hidden = !message;
}

/** Says `message` to screen readers (results counts, copies) without moving the focus. */
function announce(message) {
  $('announcer').textContent = message;
}

let noticeTimer = 0;
function showNotice(message) {
  const notice = $('notice');
  notice.textContent = message;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => {
    notice.hidden = true;
  }, NOTICE_MS);
}

// ---------------------------------------------------------------------------------------------
// Glossary data helpers

const useRank = (status) => USE_RANK[status] ?? 5;
const attentionRank = (status) => ATTENTION_RANK[status] ?? 3;

/** A concept's terms of one language, the ones to use first. */
function termsOf(concept, lang) {
  return [...(concept?.terms?.[lang] ?? [])].sort((a, b) => useRank(a.status) - useRank(b.status));
}

/** The term to use for a concept in a language: preferred, else admitted, else the first. */
function preferredTerm(concept, lang) {
  return termsOf(concept, lang)[0]?.text ?? '';
}

/** The languages a concept has terms in: zh, ru, en first, then any other. */
function conceptLangs(concept) {
  const langs = Object.keys(concept?.terms ?? {});
  return [...LANGS.filter((lang) => langs.includes(lang)), ...langs.filter((lang) => !LANGS.includes(lang)).sort()];
}

function conceptTitle(concept, lang) {
  return preferredTerm(concept, lang) || preferredTerm(concept, ui.lang) || conceptLangs(concept).map((l) => preferredTerm(concept, l))[0] || concept?.id || '';
}

function badge(status) {
  return el('span', { class: `badge st-${status}`, text: statusLabel(status) });
}

function copyButton(text, { compact = false } = {}) {
  return el('button', {
    type: 'button',
    class: compact ? 'copy copy-compact' : 'copy',
    'data-copy': text,
    'aria-label': t('copy_label', { text }),
    title: t('copy_label', { text }),
  }, el('span', { class: 'copy-icon', 'aria-hidden': 'true' }), el('span', { class: 'copy-text', text: t('copy') }));
}

/** One term of a concept: its text, status badge, type and note, and a copy button. */
function termRow(term, lang) {
  return el('li', { class: `term-row st-${term.status}` },
    el('div', { class: 'term-body' },
      el('p', { class: 'term-main' },
        el('span', { class: 'term-text', lang: htmlLang(lang), text: term.text }),
        term.pinyin ? el('span', { class: 'pinyin', text: term.pinyin }) : null,
        badge(term.status),
        term.type && term.type !== 'fullForm' ? el('span', { class: 'term-type', text: typeLabel(term.type) }) : null),
      term.note ? el('p', { class: 'term-note', text: term.note }) : null),
    copyButton(term.text, { compact: true }));
}

/** Terms grouped by language, each group headed by the language's name. */
function renderingsBlock(byLang) {
  return el('div', { class: 'renderings' }, byLang.map(([lang, terms]) => el('section', { class: 'rendering-lang' },
    el('h4', { class: 'lang-label', text: langLabel(lang) }),
    el('ul', { class: 'term-rows' }, terms.map((term) => termRow(term, lang))))));
}

// ---------------------------------------------------------------------------------------------
// Copying

async function copyText(text, button) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
    } else {
      copyWithSelection(text);
    }
  } catch {
    try {
      copyWithSelection(text);
    } catch {
      announce(t('copy_failed'));
      return;
    }
  }
  announce(t('copied_status', { text }));
  if (button) {
    const label = button.querySelector('.copy-text');
    button.classList.add('is-copied');
    if (label) label.textContent = t('copied');
    setTimeout(() => {
      button.classList.remove('is-copied');
      if (label) label.textContent = t('copy');
    }, 1400);
  }
}

/** The copy for pages that are not a secure context: a selected off-screen textarea. */
function copyWithSelection(text) {
  const area = el('textarea', { class: 'offscreen', readonly: true });
  area.value = text;
  document.body.append(area);
  area.select();
  const copied = document.execCommand('copy');
  area.remove();
  if (!copied) throw new Error('copy refused');
}

// ---------------------------------------------------------------------------------------------
// Session and sign-in

const session = { open: false, authenticated: false, keyName: '', role: '' };

/** Keeps what the server says of the session (`GET`/`POST /api/session`). */
function adoptSession(answer) {
  session.open = Boolean(answer.open);
  session.authenticated = Boolean(answer.authenticated);
  session.keyName = answer.key_name ?? '';
  session.role = answer.role ?? '';
}

async function loadSession() {
  adoptSession(await api('GET', '/api/session'));
  if (!session.open && !session.authenticated) showLogin();
  else showApp();
}

function showLogin() {
  events.stop();
  closeCard();
  $('app').hidden = true;
  $('session-box').hidden = true;
  $('login').hidden = false;
  $('login-key').focus();
}

function showApp() {
  $('login').hidden = true;
  $('app').hidden = false;
  const box = $('session-box');
  box.hidden = session.open;
  renderSessionName();
  loadInfo();
  probeCheck();
  events.start();
  if (draftInput.value.trim()) recognizeSoon.now();
}

function renderSessionName() {
  if (session.open) return;
  const role = session.role ? ` · ${t(`role_${session.role}`)}` : '';
  $('session-name').textContent = `${session.keyName}${role}`;
}

async function signIn(event) {
  event.preventDefault();
  const input = $('login-key');
  const error = $('login-error');
  const key = input.value.trim();
  if (!key) {
    error.textContent = t('login_empty');
    input.setAttribute('aria-invalid', 'true');
    return;
  }
  try {
    const answer = await api('POST', '/api/session', { key });
    input.value = '';
    error.textContent = '';
    input.removeAttribute('aria-invalid');
    adoptSession(answer);
    showApp();
    draftInput.focus();
  } catch (failure) {
    error.textContent = failure.status === 401 ? t('login_bad_key') : explain(failure);
    input.setAttribute('aria-invalid', 'true');
    input.select();
  }
}

async function signOut() {
  try {
    await api('DELETE', '/api/session');
  } catch (failure) {
    showError(explain(failure));
  }
  session.authenticated = false;
  showLogin();
}

async function loadInfo() {
  try {
    state.info = await api('GET', '/api/info');
  } catch (failure) {
    state.info = { error: explain(failure) };
  }
  renderInfo();
}

/** The footer: version, what the caller may read, and whether the server is open. */
function renderInfo() {
  const info = state.info;
  if (!info) return;
  const count = (value) => (Array.isArray(value) ? value.length : Number(value ?? 0));
  $('server-info').textContent = info.error ?? [
    `Tolmach ${info.version ?? ''}`.trim(),
    t('info', { concepts: count(info.concepts), collections: count(info.collections), memories: count(info.memories) }),
    Array.isArray(info.languages) ? info.languages.join(' ') : '',
    session.open ? t('open_server') : '',
  ].filter(Boolean).join(' · ');
}

// ---------------------------------------------------------------------------------------------
// The draft: a textarea over a mirror that carries the highlights

const draftInput = $('draft-input');
const draftMirror = $('draft-mirror');

const state = {
  info: null,
  /** The text the occurrences below index, kept equal to the textarea's value. */
  text: '',
  occurrences: [],
  concepts: {},
  omitted: 0,
  pending: false,
  recognizeSeq: 0,
  appliedSeq: 0,
  draftError: '',
  /** Which occurrence of each concept the terms list opened last, to cycle through them. */
  cursorByConcept: new Map(),
  lookup: null,
  memory: null,
  check: null,
  checkAvailable: null,
};

/**
 * Carries occurrences found in `from` over to `to`, one edit later: spans before the edited
 * region stay, spans after it move by the length difference, spans touching it are dropped
 * until the next recognition.
 */
function carryOver(occurrences, from, to) {
  if (from === to) return occurrences;
  let prefix = 0;
  const shorter = Math.min(from.length, to.length);
  while (prefix < shorter && from.charCodeAt(prefix) === to.charCodeAt(prefix)) prefix += 1;
  let suffix = 0;
  while (suffix < shorter - prefix
    && from.charCodeAt(from.length - 1 - suffix) === to.charCodeAt(to.length - 1 - suffix)) suffix += 1;
  const editEnd = from.length - suffix;
  const delta = to.length - from.length;
  const kept = [];
  for (const occurrence of occurrences) {
    if (occurrence.end <= prefix) kept.push(occurrence);
    else if (occurrence.start >= editEnd) kept.push({ ...occurrence, start: occurrence.start + delta, end: occurrence.end + delta });
  }
  return kept;
}

/** The occurrences drawn in the mirror: in text order, none overlapping the one before. */
function drawnOccurrences() {
  const drawn = [];
  let end = 0;
  state.occurrences.forEach((occurrence, index) => {
    if (occurrence.start >= end && occurrence.end > occurrence.start && occurrence.end <= state.text.length) {
      drawn.push({ occurrence, index });
      end = occurrence.end;
    }
  });
  return drawn;
}

function renderMirror() {
  const text = state.text;
  const fragment = document.createDocumentFragment();
  let position = 0;
  for (const { occurrence, index } of drawnOccurrences()) {
    fragment.append(text.slice(position, occurrence.start));
    fragment.append(el('mark', {
      class: `term st-${occurrence.status}`,
      'data-occ': index,
      'data-concept': occurrence.concept,
    }, text.slice(occurrence.start, occurrence.end)));
    position = occurrence.end;
  }
  // A final line break only takes room in the mirror when something follows it.
  fragment.append(text.slice(position), '\u200b');
  draftMirror.replaceChildren(fragment);
}

function onDraftInput() {
  const text = draftInput.value;
  state.occurrences = carryOver(state.occurrences, state.text, text);
  state.text = text;
  renderMirror();
  renderTerms();
  // Typing means writing again: the card would only cover the text.
  closeCard();
  recognizeSoon();
}

const recognizeSoon = debounce(recognizeDraft, RECOGNIZE_DELAY_MS);

async function recognizeDraft() {
  const text = draftInput.value;
  const seq = ++state.recognizeSeq;
  if (!text.trim()) {
    state.appliedSeq = seq;
    state.occurrences = [];
    state.concepts = {};
    state.omitted = 0;
    state.pending = false;
    state.draftError = '';
    renderMirror();
    renderTerms();
    return;
  }
  state.pending = true;
  renderDraftStatus();
  try {
    const answer = await api('POST', '/api/recognize', { text, lang: $('draft-lang').value, target_langs: [] });
    if (seq < state.appliedSeq) return;
    state.appliedSeq = seq;
    state.concepts = answer.concepts ?? {};
    state.occurrences = carryOver(answer.occurrences ?? [], text, draftInput.value);
    state.text = draftInput.value;
    state.omitted = Number(answer.omitted ?? 0);
    state.draftError = '';
  } catch (failure) {
    if (seq < state.appliedSeq) return;
    state.draftError = explain(failure);
  } finally {
    if (seq === state.recognizeSeq) state.pending = false;
  }
  renderMirror();
  renderTerms();
  refreshCard();
}

function renderDraftStatus() {
  const status = $('draft-status');
  status.classList.toggle('is-error', Boolean(state.draftError));
  if (state.draftError) {
    status.textContent = state.draftError;
  } else if (state.pending && state.occurrences.length === 0) {
    status.textContent = t('checking');
  } else if (!state.text.trim()) {
    status.textContent = '';
  } else if (state.occurrences.length === 0) {
    status.textContent = t('none_found');
  } else {
    const warnings = state.occurrences.filter((o) => WARNING_STATUSES.has(o.status)).length;
    const omitted = state.omitted ? ` · ${t('omitted', { n: state.omitted })}` : '';
    status.textContent = t('draft_counts', { terms: state.occurrences.length, warnings }) + omitted;
  }
}

/** The mark under a point of the textarea: the mirror lies beneath it, so look through. */
function markAt(x, y) {
  return document.elementsFromPoint(x, y).find((node) => node.matches?.('mark.term')) ?? null;
}

function markOf(index) {
  return draftMirror.querySelector(`mark[data-occ="${index}"]`);
}

/** The occurrence index at a caret position of the draft, or -1. */
function occurrenceAtCaret(position) {
  return state.occurrences.findIndex((o) => o.start <= position && position < o.end);
}

// ---------------------------------------------------------------------------------------------
// The list of terms found, grouped by concept, warnings first

function groupsOfDraft() {
  const groups = new Map();
  state.occurrences.forEach((occurrence, index) => {
    let group = groups.get(occurrence.concept);
    if (!group) {
      group = { concept: occurrence.concept, indexes: [], worst: occurrence.status, first: occurrence.start, lang: occurrence.lang };
      groups.set(occurrence.concept, group);
    }
    group.indexes.push(index);
    if (attentionRank(occurrence.status) < attentionRank(group.worst)) group.worst = occurrence.status;
  });
  return [...groups.values()].sort((a, b) => attentionRank(a.worst) - attentionRank(b.worst) || a.first - b.first);
}

function renderTerms() {
  renderDraftStatus();
  const list = $('terms-list');
  const groups = groupsOfDraft();
  $('terms-empty').hidden = groups.length > 0;
  const count = $('terms-count');
  count.hidden = groups.length === 0;
  count.textContent = String(groups.length);
  list.replaceChildren(...groups.map(termsListItem));
}

function termsListItem(group) {
  const concept = state.concepts[group.concept];
  const occurrences = group.indexes.map((index) => state.occurrences[index]);
  const others = LANGS.filter((lang) => lang !== group.lang)
    .map((lang) => [lang, preferredTerm(concept, lang)])
    .filter(([, text]) => text);
  const warnings = new Map();
  for (const occurrence of occurrences) {
    if (WARNING_STATUSES.has(occurrence.status) || occurrence.status === 'superseded') {
      warnings.set(`${occurrence.status}\u0000${occurrence.surface}`, occurrence);
    }
  }
  return el('li', { class: `terms-item st-${group.worst}` },
    el('button', { type: 'button', class: 'terms-open', 'data-concept': group.concept, 'aria-haspopup': 'dialog' },
      el('span', { class: 'terms-head' },
        el('span', { class: 'terms-title', lang: htmlLang(group.lang), text: conceptTitle(concept, group.lang) }),
        el('span', { class: 'terms-count', text: `×${occurrences.length}` })),
      others.length ? el('span', { class: 'terms-others' }, others.map(([lang, text]) => el('span', { lang: htmlLang(lang), text }))) : null,
      [...warnings.values()].map(warningLine)));
}

function warningLine(occurrence) {
  const replacement = occurrence.status === 'superseded' ? occurrence.current_term : occurrence.suggestion;
  return el('span', { class: `terms-warning st-${occurrence.status}` },
    badge(occurrence.status),
    el('span', { class: 'surface', text: occurrence.surface }),
    replacement ? el('span', { class: 'arrow', 'aria-hidden': 'true', text: '→' }) : null,
    replacement ? el('span', { class: 'replacement', text: replacement }) : null);
}

/**
 * Opens the card of a concept's next occurrence, cycling through them on each click: the ones
 * that need attention first (forbidden, deprecated, former names), then in text order.
 */
function openFromList(conceptId) {
  const order = state.occurrences
    .map((occurrence, index) => ({ occurrence, index }))
    .filter(({ occurrence }) => occurrence.concept === conceptId)
    .sort((a, b) => attentionRank(a.occurrence.status) - attentionRank(b.occurrence.status) || a.index - b.index)
    .map(({ index }) => index);
  if (order.length === 0) return;
  const previous = order.indexOf(state.cursorByConcept.get(conceptId));
  const next = order[(previous + 1) % order.length];
  state.cursorByConcept.set(conceptId, next);
  markOf(next)?.scrollIntoView({ block: 'nearest' });
  openCard(next, { pinned: true, focus: true });
}

// ---------------------------------------------------------------------------------------------
// The term card

const cardNode = $('term-card');
const card = { occurrence: null, pinned: false, returnFocus: null, openTimer: 0, closeTimer: 0 };

function openCard(index, { pinned = false, focus = false } = {}) {
  clearTimeout(card.openTimer);
  clearTimeout(card.closeTimer);
  const occurrence = state.occurrences[index];
  if (!occurrence) return;
  if (focus && !cardNode.contains(document.activeElement)) card.returnFocus = document.activeElement;
  card.occurrence = index;
  card.pinned = card.pinned || pinned;
  cardNode.replaceChildren(...cardContent(occurrence, state.concepts[occurrence.concept]));
  cardNode.hidden = false;
  for (const mark of draftMirror.querySelectorAll('mark.is-current')) mark.classList.remove('is-current');
  const mark = markOf(index);
  mark?.classList.add('is-current');
  placeCard(mark);
  if (focus) cardNode.focus();
}

function refreshCard() {
  if (card.occurrence === null) return;
  if (state.occurrences[card.occurrence]) openCard(card.occurrence);
  else closeCard();
}

function closeCard({ restoreFocus = false } = {}) {
  clearTimeout(card.openTimer);
  clearTimeout(card.closeTimer);
  if (card.occurrence === null) return;
  card.occurrence = null;
  card.pinned = false;
  cardNode.hidden = true;
  for (const mark of draftMirror.querySelectorAll('mark.is-current')) mark.classList.remove('is-current');
  if (restoreFocus && card.returnFocus && document.contains(card.returnFocus)) card.returnFocus.focus();
  card.returnFocus = null;
}

/** Places the card under the mark (above it when there is no room below), inside the viewport. */
function placeCard(mark) {
  const anchor = (mark ?? draftInput).getBoundingClientRect();
  const width = cardNode.offsetWidth;
  const height = cardNode.offsetHeight;
  const margin = 12;
  let left = Math.min(anchor.left, window.innerWidth - width - margin);
  left = Math.max(margin, left);
  let top = anchor.bottom + 8;
  if (top + height > window.innerHeight - margin && anchor.top - height - 8 > margin) top = anchor.top - height - 8;
  cardNode.style.left = `${Math.round(left + window.scrollX)}px`;
  cardNode.style.top = `${Math.round(top + window.scrollY)}px`;
}

function cardContent(occurrence, concept) {
  const lang = occurrence.lang;
  const meta = [concept?.collection, concept?.subject_field, concept?.id ?? occurrence.concept].filter(Boolean);
  const head = el('div', { class: 'card-head' },
    el('div', {},
      el('h3', { id: 'card-title', class: 'card-title', lang: htmlLang(lang), text: conceptTitle(concept, lang) }),
      el('p', { class: 'card-meta', text: meta.join(' · ') })),
    el('button', { type: 'button', class: 'btn btn-icon card-close', 'aria-label': t('close'), title: t('close'), text: '×' }));
  const parts = [head, occurrenceBanner(occurrence)];
  const definition = concept?.definition?.[ui.lang] ?? concept?.definition?.[lang] ?? Object.values(concept?.definition ?? {})[0];
  if (definition) {
    parts.push(el('div', { class: 'card-definition' }, el('h4', { class: 'lang-label', text: t('definition') }), el('p', { text: definition })));
  }
  parts.push(renderingsBlock(conceptLangs(concept).map((l) => [l, termsOf(concept, l)])));
  return parts;
}

/** What the card says about the term as written in the draft, with the replacement to copy. */
function occurrenceBanner(occurrence) {
  const status = occurrence.status;
  if (WARNING_STATUSES.has(status) || status === 'superseded') {
    const historical = status === 'superseded';
    const replacement = historical ? occurrence.current_term : occurrence.suggestion;
    return el('div', { class: `card-banner st-${status}` },
      el('p', { class: 'banner-line', text: t(historical ? 'historical' : `warn_${status}`, { surface: occurrence.surface }) }),
      replacement ? el('p', { class: 'banner-line banner-use' },
        el('span', { class: 'banner-label', text: t(historical ? 'now' : 'use') }),
        el('strong', { lang: htmlLang(occurrence.lang), text: replacement }),
        copyButton(replacement, { compact: true })) : null,
      occurrence.note ? el('p', { class: 'term-note', text: occurrence.note }) : null);
  }
  return el('div', { class: 'card-banner' },
    el('p', { class: 'banner-line' },
      el('span', { class: 'surface', lang: htmlLang(occurrence.lang), text: occurrence.surface }),
      badge(status),
      occurrence.kind && occurrence.kind !== 'exact' ? el('span', { class: 'kind', text: kindLabel(occurrence.kind) }) : null));
}

// ---------------------------------------------------------------------------------------------
// Term lookup

const lookupInput = $('lookup-input');

async function runLookup() {
  const query = lookupInput.value.trim();
  const results = $('lookup-results');
  if (!query) {
    state.lookup = null;
    delete results.dataset.query;
    results.replaceChildren();
    return;
  }
  const params = new URLSearchParams({ q: query, lang: $('lookup-lang').value, limit: '8' });
  try {
    const answer = await api('GET', `/api/lookup?${params}`);
    if (lookupInput.value.trim() !== query) return;
    state.lookup = answer.hits ?? [];
  } catch (failure) {
    state.lookup = { error: explain(failure) };
  }
  results.dataset.query = query;
  renderLookup();
}

const lookupSoon = debounce(runLookup, LOOKUP_DELAY_MS);

function renderLookup() {
  const results = $('lookup-results');
  if (state.lookup === null) return;
  if (state.lookup.error) {
    results.replaceChildren(el('p', { class: 'empty is-error', text: state.lookup.error }));
  } else if (state.lookup.length === 0) {
    results.replaceChildren(el('p', { class: 'empty', text: t('lookup_none') }));
  } else {
    results.replaceChildren(el('ol', { class: 'hit-list' }, state.lookup.map(lookupHit)));
  }
  announce(state.lookup.error ?? t('results_count', { n: state.lookup.length }));
}

function lookupHit(hit) {
  const conceptId = typeof hit.concept === 'object' ? hit.concept?.id : hit.concept;
  const byLang = new Map();
  for (const rendering of hit.renderings ?? []) {
    if (!byLang.has(rendering.lang)) byLang.set(rendering.lang, []);
    byLang.get(rendering.lang).push(rendering);
  }
  const ordered = [...byLang.entries()].sort(([a], [b]) => (LANGS.indexOf(a) + 4) % 4 - (LANGS.indexOf(b) + 4) % 4);
  for (const [, renderings] of ordered) renderings.sort((a, b) => useRank(a.status) - useRank(b.status));
  return el('li', { class: 'hit', 'data-concept': conceptId },
    el('div', { class: 'hit-head' },
      el('span', { class: 'hit-term', lang: htmlLang(hit.matched_lang), text: hit.matched_term }),
      el('span', { class: 'lang-tag', text: hit.matched_lang }),
      el('span', { class: 'kind', text: kindLabel(hit.kind) }),
      el('span', { class: 'score', title: t('match'), text: `${Math.round(Number(hit.score ?? 0) * 100)}%` }),
      el('span', { class: 'hit-id', text: conceptId })),
    renderingsBlock(ordered));
}

// ---------------------------------------------------------------------------------------------
// Translation-memory search

async function runMemorySearch(event) {
  event?.preventDefault();
  const text = $('memory-input').value.trim();
  if (!text) return;
  const request = { text, source_lang: $('memory-from').value, target_lang: $('memory-to').value, limit: 8 };
  const results = $('memory-results');
  results.setAttribute('aria-busy', 'true');
  try {
    const answer = await api('POST', '/api/search', request);
    state.memory = { query: text, targetLang: request.target_lang, matches: answer.matches ?? [] };
  } catch (failure) {
    state.memory = { error: explain(failure) };
  }
  results.removeAttribute('aria-busy');
  renderMemory();
}

function renderMemory() {
  const results = $('memory-results');
  if (state.memory === null) return;
  if (state.memory.error) {
    results.replaceChildren(el('p', { class: 'empty is-error', text: state.memory.error }));
  } else if (state.memory.matches.length === 0) {
    results.replaceChildren(el('p', { class: 'empty', text: t('memory_none') }));
  } else {
    results.replaceChildren(el('ol', { class: 'match-list' }, state.memory.matches.map((m) => memoryMatch(m, state.memory.targetLang))));
  }
  announce(state.memory.error ?? t('results_count', { n: state.memory.matches.length }));
}

/** `text` with the given UTF-16 ranges wrapped in <mark class="diff …">. */
function withRanges(text, ranges) {
  const sorted = ranges.filter(([s, e]) => e > s).sort((a, b) => a[0] - b[0]);
  const parts = [];
  let position = 0;
  for (const [start, end, kind] of sorted) {
    if (start < position) continue;
    parts.push(text.slice(position, start), el('mark', { class: `diff diff-${kind}`, text: text.slice(start, end) }));
    position = end;
  }
  parts.push(text.slice(position));
  return parts;
}

function scoreTier(score) {
  if (score >= 100) return 'score-exact';
  if (score >= 85) return 'score-high';
  if (score >= 70) return 'score-mid';
  return 'score-low';
}

function memoryMatch(match, targetLang) {
  const score = Math.round(Number(match.score ?? 0));
  const stored = (match.diffs ?? []).filter((d) => Array.isArray(d.stored)).map((d) => [d.stored[0], d.stored[1], d.kind]);
  const target = match.adapted_target || match.target;
  return el('li', { class: 'match' },
    el('div', { class: `match-score ${scoreTier(score)}`, title: t('match') }, `${score}%`),
    el('div', { class: 'match-body' },
      el('p', { class: 'match-source' }, el('span', { class: 'match-label', text: t('memory_source') }), el('span', {}, withRanges(match.source ?? '', stored))),
      el('p', { class: 'match-target', lang: htmlLang(targetLang) },
        el('span', { class: 'match-label', text: t('memory_target') }),
        el('span', { text: target }),
        copyButton(target, { compact: true })),
      el('p', { class: 'match-meta' },
        [match.memory, match.unit_id].filter(Boolean).join(' · '),
        match.adapted_target && match.adapted_target !== match.target ? el('span', { class: 'kind', text: t('memory_adapted') }) : null)));
}

/** The sentence of the draft around the caret (or the selection), for a memory search. */
function sentenceAtCursor() {
  const text = draftInput.value;
  const { selectionStart: start, selectionEnd: end } = draftInput;
  if (end > start) return text.slice(start, end).trim();
  const boundary = /[。！？!?…\n]|[.;](?=\s)/g;
  let from = 0;
  let to = text.length;
  for (const match of text.matchAll(boundary)) {
    const after = match.index + match[0].length;
    if (after <= start) from = after;
    else if (match.index >= start) {
      to = after;
      break;
    }
  }
  return text.slice(from, to).trim();
}

/** The language of a text by its script: Han, Cyrillic, else English. */
function scriptLang(text) {
  if (/\p{Script=Han}/u.test(text)) return 'zh';
  if (/\p{Script=Cyrillic}/u.test(text)) return 'ru';
  return 'en';
}

function memoryFromDraft() {
  const sentence = sentenceAtCursor();
  if (!sentence) return;
  const from = scriptLang(sentence);
  $('memory-input').value = sentence;
  $('memory-from').value = from;
  if ($('memory-to').value === from) $('memory-to').value = from === 'zh' ? 'ru' : 'zh';
  runMemorySearch();
}

// ---------------------------------------------------------------------------------------------
// Translation check

/** Asks the server whether it checks translations: an empty request answers 400, not 404. */
async function probeCheck() {
  if (state.checkAvailable !== null) return;
  try {
    await api('POST', '/api/check', {});
    state.checkAvailable = true;
  } catch (failure) {
    state.checkAvailable = !(failure.status === 404 || failure.status === 405 || failure.status === 0);
  }
  renderCheckAvailability();
}

function renderCheckAvailability() {
  const available = state.checkAvailable !== false;
  $('check-unavailable').hidden = available;
  for (const node of $('check-form').querySelectorAll('textarea, select, button')) node.disabled = !available;
}

async function runCheck(event) {
  event.preventDefault();
  const request = {
    source: $('check-source').value,
    source_lang: $('check-source-lang').value,
    target: $('check-target').value,
    target_lang: $('check-target-lang').value,
  };
  if (!request.source.trim() || !request.target.trim()) return;
  const pair = {
    id: 'page',
    source_text: request.source,
    source_lang: request.source_lang,
    target_text: request.target,
    target_lang: request.target_lang,
  };
  try {
    const answer = await api('POST', '/api/check', { pairs: [pair] });
    state.check = { request, findings: answer.pairs?.[0]?.findings ?? [] };
  } catch (failure) {
    state.check = { error: explain(failure) };
  }
  renderCheck();
}

/** A finding's place on one side as [start, end] (UTF-16), or null where it has none. */
function spanOf(finding, side) {
  const place = finding[side];
  return place ? [place.start, place.end] : null;
}

/** Whether a finding is wrong in any text (a forbidden term, a changed number). */
const isError = (finding) => String(finding.severity ?? '').toLowerCase().includes('error');

function renderCheck() {
  const results = $('check-results');
  if (state.check === null) return;
  if (state.check.error) {
    results.replaceChildren(el('p', { class: 'empty is-error', text: state.check.error }));
    return;
  }
  const { request, findings } = state.check;
  if (findings.length === 0) {
    results.replaceChildren(el('p', { class: 'empty is-ok', text: t('check_ok') }));
    announce(t('check_ok'));
    return;
  }
  announce(t('check_counts', { n: findings.length }));
  const ranges = (side) => findings
    .map((finding) => [spanOf(finding, side), isError(finding) ? 'finding-error' : 'finding'])
    .filter(([span]) => span)
    .map(([[start, end], kind]) => [start, end, kind]);
  const sourceRanges = ranges('source');
  const targetRanges = ranges('target');
  results.replaceChildren(
    el('p', { class: 'check-summary', text: t('check_counts', { n: findings.length }) }),
    el('div', { class: 'check-grid check-texts' },
      el('div', { class: 'check-text', lang: htmlLang(request.source_lang) }, el('h4', { class: 'lang-label', text: t('in_source') }), el('p', {}, withRanges(request.source, sourceRanges))),
      el('div', { class: 'check-text', lang: htmlLang(request.target_lang) }, el('h4', { class: 'lang-label', text: t('in_target') }), el('p', {}, withRanges(request.target, targetRanges)))),
    el('ol', { class: 'finding-list' }, findings.map((finding) => checkFinding(finding, request))));
}

function checkFinding(finding, request) {
  const source = spanOf(finding, 'source');
  const target = spanOf(finding, 'target');
  const sourceText = source ? request.source.slice(...source) : '';
  const targetText = target ? request.target.slice(...target) : '';
  const expected = finding.expected ?? [];
  const kind = finding.kind ?? '';
  const serious = isError(finding);
  return el('li', { class: `finding ${serious ? 'is-error' : 'is-warning'}` },
    el('p', { class: 'finding-head' },
      el('span', { class: `badge ${serious ? 'st-forbidden' : 'st-deprecated'}`, text: MESSAGES.en[`finding_${kind}`] ? t(`finding_${kind}`) : kind }),
      sourceText ? el('span', { class: 'surface', lang: htmlLang(request.source_lang), text: sourceText }) : null,
      sourceText ? el('span', { class: 'arrow', 'aria-hidden': 'true', text: '→' }) : null,
      targetText
        ? el('span', { class: 'surface surface-target', lang: htmlLang(request.target_lang), text: targetText })
        : el('span', { class: 'muted', text: t('check_missing') }),
      finding.concept ? el('span', { class: 'hit-id', text: finding.concept }) : null),
    finding.message ? el('p', { class: 'term-note', text: finding.message }) : null,
    // The message usually quotes the used term's note already.
    finding.used_term_note && !finding.message?.includes(finding.used_term_note)
      ? el('p', { class: 'term-note', text: finding.used_term_note }) : null,
    expected.length ? el('p', { class: 'finding-expected' },
      el('span', { class: 'banner-label', text: t('check_expected') }),
      expected.map((text) => el('span', { class: 'expected' },
        el('strong', { lang: htmlLang(request.target_lang), text }),
        copyButton(text, { compact: true })))) : null);
}

// ---------------------------------------------------------------------------------------------
// Live glossary updates

/** The glossary changes that can change what the draft's terms are. */
const GLOSSARY_CHANGES = ['concept_upserted', 'concept_deleted', 'collection_upserted', 'collection_deleted'];
const EVENTS_RETRY_MS = 10000;

/**
 * The change feed as server-sent events. The browser reconnects by itself and resumes after
 * the last event's id (Last-Event-ID); when the server refuses that (too old a revision) or
 * ends the feed with an `error` event, a fresh connection starts from now and the draft is
 * checked again, since changes may have been missed.
 */
const events = {
  source: null,
  retry: 0,
  start() {
    if (this.source || typeof EventSource === 'undefined') return;
    const source = new EventSource('/api/events');
    let opened = false;
    this.source = source;
    source.addEventListener('open', () => {
      opened = true;
      $('live-status').hidden = false;
    });
    source.addEventListener('error', (event) => {
      const feedFailed = typeof event.data === 'string';
      if (!feedFailed && source.readyState !== EventSource.CLOSED) return;
      source.close();
      $('live-status').hidden = true;
      if (this.source !== source) return;
      this.source = null;
      // A server without the feed never opens it: then the page does without.
      if (opened) this.retry = setTimeout(() => this.restart(), feedFailed ? 0 : EVENTS_RETRY_MS);
    });
    for (const name of GLOSSARY_CHANGES) source.addEventListener(name, (message) => glossaryChanged(name, message.data));
  },
  restart() {
    this.start();
    if (draftInput.value.trim()) recognizeSoon.now();
  },
  stop() {
    clearTimeout(this.retry);
    this.source?.close();
    this.source = null;
    $('live-status').hidden = true;
  },
};

/** Checks the draft (and the lookup) again after a glossary change, and says what changed. */
function glossaryChanged(kind, data) {
  let change = {};
  try {
    change = JSON.parse(data);
  } catch {
    change = {};
  }
  const concept = change.concept;
  const name = concept
    ? [conceptTitle(concept, ui.lang), concept.id].filter(Boolean).join(' · ')
    : change.id ?? change.name ?? '';
  const what = kind.endsWith('_deleted') ? `${name} (${t('glossary_deleted')})` : name;
  if (draftInput.value.trim()) recognizeSoon.now();
  if (lookupInput.value.trim()) lookupSoon.now();
  showNotice(t('glossary_updated', { what }));
}

// ---------------------------------------------------------------------------------------------
// Tabs (WAI-ARIA tabs pattern: arrows move between tabs, Tab enters the panel)

function selectTab(tab, { focus = false } = {}) {
  for (const other of document.querySelectorAll('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute('aria-selected', String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute('aria-controls')).hidden = !selected;
  }
  if (focus) tab.focus();
}

function onTabKey(event) {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const index = tabs.indexOf(event.target);
  const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: tabs.length - 1 - index };
  if (!(event.key in moves)) return;
  event.preventDefault();
  selectTab(tabs[(index + moves[event.key] + tabs.length) % tabs.length], { focus: true });
}

// ---------------------------------------------------------------------------------------------
// Wiring

function rerenderAll() {
  renderSessionName();
  renderTerms();
  renderLookup();
  renderMemory();
  renderCheck();
  refreshCard();
  renderInfo();
}

function wireDraft() {
  draftInput.addEventListener('input', onDraftInput);
  draftInput.addEventListener('paste', () => setTimeout(() => recognizeSoon.now(), 0));
  $('draft-lang').addEventListener('change', () => recognizeSoon.now());
  $('draft-clear').addEventListener('click', () => {
    draftInput.value = '';
    onDraftInput();
    closeCard();
    draftInput.focus();
  });

  let frame = 0;
  let hovered = null;
  draftInput.addEventListener('mousemove', (event) => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      const mark = markAt(event.clientX, event.clientY);
      draftInput.classList.toggle('over-term', Boolean(mark));
      if (mark === hovered) return;
      hovered = mark;
      clearTimeout(card.openTimer);
      if (mark) {
        clearTimeout(card.closeTimer);
        card.openTimer = setTimeout(() => openCard(Number(mark.dataset.occ)), HOVER_OPEN_MS);
      } else if (!card.pinned) {
        card.closeTimer = setTimeout(() => closeCard(), HOVER_CLOSE_MS);
      }
    });
  });
  draftInput.addEventListener('mouseleave', () => {
    hovered = null;
    clearTimeout(card.openTimer);
    if (!card.pinned) card.closeTimer = setTimeout(() => closeCard(), HOVER_CLOSE_MS);
  });
  draftInput.addEventListener('click', (event) => {
    const mark = markAt(event.clientX, event.clientY);
    if (mark) openCard(Number(mark.dataset.occ), { pinned: true });
    else if (card.pinned) closeCard();
  });
  draftInput.addEventListener('keydown', (event) => {
    // Alt+Enter opens the card of the term at the caret, for keyboard users.
    if (event.key === 'Enter' && event.altKey) {
      const index = occurrenceAtCaret(draftInput.selectionStart);
      if (index >= 0) {
        event.preventDefault();
        openCard(index, { pinned: true, focus: true });
      }
    }
  });

  cardNode.addEventListener('mouseenter', () => clearTimeout(card.closeTimer));
  cardNode.addEventListener('mouseleave', () => {
    if (!card.pinned) card.closeTimer = setTimeout(() => closeCard(), HOVER_CLOSE_MS);
  });
  cardNode.addEventListener('click', (event) => {
    if (event.target.closest('.card-close')) closeCard({ restoreFocus: true });
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && card.occurrence !== null) closeCard({ restoreFocus: cardNode.contains(document.activeElement) });
  });
  document.addEventListener('mousedown', (event) => {
    if (card.pinned && !cardNode.contains(event.target) && !event.target.closest('.terms-open') && event.target !== draftInput) closeCard();
  });
  window.addEventListener('resize', () => {
    if (card.occurrence !== null) placeCard(markOf(card.occurrence));
  });

  $('terms-list').addEventListener('click', (event) => {
    const button = event.target.closest('.terms-open');
    if (button) openFromList(button.dataset.concept);
  });
}

function wireTools() {
  for (const tab of document.querySelectorAll('[role="tab"]')) {
    tab.addEventListener('click', () => selectTab(tab));
    tab.addEventListener('keydown', onTabKey);
  }
  $('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    lookupSoon.now();
  });
  lookupInput.addEventListener('input', () => lookupSoon());
  $('lookup-lang').addEventListener('change', () => lookupSoon.now());

  $('memory-form').addEventListener('submit', runMemorySearch);
  $('memory-input').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) runMemorySearch(event);
  });
  $('memory-swap').addEventListener('click', () => {
    const from = $('memory-from');
    const to = $('memory-to');
    [from.value, to.value] = [to.value, from.value];
  });
  $('memory-from-draft').addEventListener('click', memoryFromDraft);

  $('check-form').addEventListener('submit', runCheck);
  $('check-use-draft').addEventListener('click', () => {
    $('check-source').value = draftInput.value;
    $('check-source-lang').value = scriptLang(draftInput.value);
  });
}

function wireChrome() {
  for (const button of document.querySelectorAll('[data-ui-lang]')) {
    button.addEventListener('click', () => {
      localStorage.setItem(UI_LANG_KEY, button.dataset.uiLang);
      applyUiLang(button.dataset.uiLang);
    });
  }
  $('login-form').addEventListener('submit', signIn);
  $('logout').addEventListener('click', signOut);
  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-copy]');
    if (button) copyText(button.dataset.copy, button);
  });
}

/** Fills each language choice with zh, ru and en (after "Detect" where the server may guess). */
function fillLangChoices() {
  for (const select of document.querySelectorAll('select[data-lang-choice]')) {
    const options = LANGS.map((lang) => el('option', { value: lang, 'data-i18n': `lang_${lang}` }));
    if (select.dataset.langChoice === 'detect') options.unshift(el('option', { value: '', 'data-i18n': 'auto_detect' }));
    select.replaceChildren(...options);
    select.value = select.dataset.selected ?? options[0].value;
  }
}

async function start() {
  fillLangChoices();
  wireChrome();
  wireDraft();
  wireTools();
  applyUiLang(initialUiLang());
  try {
    await loadSession();
  } catch (failure) {
    showError(explain(failure));
  }
}

start();
