"""Tokens and sentences of scripts written without spaces (Chinese, Japanese, Korean, Thai),
and near-copies in those scripts found by a scan, offsets intact."""

from __future__ import annotations

import random
import re

import pytest

import dedup
from dedup.records import Document
from dedup.text import normalize_word, sentences, tokenize

# A news report in the style of a Xinhua wire story (written for this test).
ZH_NEWS = (
    "新华社北京三月十二日电　国家统计局十二日发布数据显示，今年前两个月，全国规模以上工业增加值同比增长百分之五点六，"
    "比去年全年加快零点八个百分点。其中，高技术制造业增加值增长百分之九点三，装备制造业增长百分之七点一，"
    "新能源汽车、太阳能电池和工业机器人等产品产量保持较快增长。国家统计局新闻发言人在当天举行的发布会上表示，"
    "开年以来，各地区各部门认真落实稳增长政策，生产供给稳中有升，市场需求逐步恢复，就业物价总体稳定，"
    "经济运行起步平稳。她同时指出，当前外部环境更趋复杂严峻，国内有效需求仍显不足，部分企业生产经营困难较多，"
    "经济持续回升向好的基础还需要进一步巩固。下一阶段，要加大宏观政策实施力度，着力扩大国内需求，"
    "推动消费和投资协同发力，继续做好稳就业、稳物价工作。数据显示，前两个月社会消费品零售总额同比增长百分之四点二，"
    "全国固定资产投资同比增长百分之三点九，城镇调查失业率平均值为百分之五点三，与上年同期基本持平。"
)

# A news report in the style of a Japanese wire story (written for this test).
JA_NEWS = (
    "気象庁は十四日、関東甲信地方が梅雨明けしたとみられると発表した。平年より五日早く、昨年より三日遅い梅雨明けとなった。"
    "東京都心では午前中から気温が上がり、正午までに三十二度を超えた。気象庁によると、今後一週間は太平洋高気圧に覆われて"
    "晴れる日が多く、各地で厳しい暑さが続く見込みだという。熱中症の危険性が高まるとして、こまめな水分補給や"
    "冷房の適切な使用を呼びかけている。また、東京電力は電力需給が厳しくなる可能性があるとして、"
    "家庭や企業に対して無理のない範囲での節電への協力を求めた。一方、農林水産省は少雨の影響で一部の地域で"
    "農作物の生育に遅れが出ているとして、今後の天候の推移を注視する方針を示した。専門家は、"
    "今年の夏は例年以上に暑くなる可能性があり、高齢者や子どもは特に注意が必要だと話している。"
)


def spans(text: str) -> list[str]:
    tokens = tokenize(text)
    return [text[s:e] for s, e in zip(tokens.starts.tolist(), tokens.ends.tolist())]


def test_scripts_without_spaces_give_one_token_per_character():
    text = "东京2020年奥运会 한국어 ภาษาไทย カタカナとひらがな Ｔｈｅ firm’s 東京"
    assert spans(text) == ["东", "京", "2020", "年", "奥", "运", "会", "한", "국", "어",
                           "ภ", "า", "ษ", "า", "ไ", "ท", "ย", "カ", "タ", "カ", "ナ", "と", "ひ", "ら", "が", "な",
                           "Ｔｈｅ", "firm", "s", "東", "京"]
    tokens = tokenize(text)
    assert tokens.words[-4:] == ["firm", "s", "東", "京"] and tokens.words[-5] == "the"
    for word, piece in zip(tokens.words, spans(text)):
        assert word == normalize_word(piece)


def test_other_scripts_still_equal_the_regex_definition():
    for text in ["ﬁrm’s İstanbul Straße naïve ١٢٣ x_y é\u0301 café—déjà", "Москва, 12 марта — ТАСС.",
                 "القاهرة (رويترز) - قال", "हिन्दी समाचार", "Ἀθῆναι", "", " ", "a"]:
        tokens = tokenize(text)
        assert list(zip(tokens.starts.tolist(), tokens.ends.tolist())) == [m.span() for m in re.finditer(r"\w+", text)]


def test_chinese_and_japanese_sentences_split_at_full_stops():
    parts = [ZH_NEWS[s:e] for s, e in sentences(ZH_NEWS)]
    assert len(parts) == 6
    assert parts[1].startswith("其中，高技术制造业") and parts[1].endswith("较快增长。")
    assert "".join(parts) == ZH_NEWS
    text = "「本当ですか？」と彼は聞いた。はい！そうです｡Then English. 最後"
    assert [text[s:e] for s, e in sentences(text)] == [
        "「本当ですか？」", "と彼は聞いた。", "はい！", "そうです｡", "Then English.", "最後"]
    fullwidth = "他说：“我们会继续努力！”记者问：“何时完成？”回答：明年。"
    assert len(sentences(fullwidth)) == 3


def edit_characters(text: str, n: int, seed: int) -> str:
    """``text`` with ``n`` characters (spread out, never punctuation) replaced by others."""
    rng = random.Random(seed)
    chars = list(text)
    step = len(text) // n
    for k in range(n):
        i = k * step + rng.randrange(step // 2)
        while not chars[i].isalnum():
            i += 1
        chars[i] = "某" if chars[i] != "某" else "甲"
    return "".join(chars)


@pytest.mark.parametrize("original", [ZH_NEWS, JA_NEWS], ids=["chinese", "japanese"])
def test_edited_copy_and_excerpt_are_found(original):
    edited = edit_characters(original, 7, seed=1)
    assert sum(a != b for a, b in zip(original, edited)) == 7 and len(edited) == len(original)
    excerpt = original[100:280]
    documents = [Document("original", original), Document("edited", edited), Document("excerpt", excerpt)]
    report = dedup.Scanner().scan(documents)
    relations = {frozenset((p.a, p.b)): p.relation for p in report.pairs}
    assert relations[frozenset(("original", "edited"))] == "duplicate"
    assert relations[frozenset(("original", "excerpt"))] == "excerpt"
    texts = {d.id: d.text for d in documents}
    for pair in report.pairs:
        assert pair.passages
        for p in pair.passages:
            a, b = texts[pair.a][p.a_start:p.a_end], texts[pair.b][p.b_start:p.b_end]
            assert a == p.text
            if "edited" not in (pair.a, pair.b):
                assert a == b                       # verbatim: both sides slice the same text
            else:
                assert sum(x != y for x, y in zip(a, b)) <= 7 and len(a) == len(b)
    excerpt_pair = report.pair("original", "excerpt")
    (passage,) = excerpt_pair.passages
    side = (passage.a_start, passage.a_end) if excerpt_pair.a == "original" else (passage.b_start, passage.b_end)
    assert len(original[side[0]:side[1]]) >= 170     # the whole excerpt, give or take its edges


def test_exact_copies_in_other_scripts_are_still_found():
    russian = ("Центральный банк России в пятницу сохранил ключевую ставку на прежнем уровне, сообщила пресс-служба "
               "регулятора. Аналитики ожидали такого решения, указывая на замедление инфляции и неопределённость "
               "во внешней экономике. Следующее заседание совета директоров по ставке запланировано на июль.")
    report = dedup.Scanner().scan([Document("a", russian), Document("b", "Новости. " + russian)])
    (pair,) = report.pairs
    assert pair.relation == "duplicate"
