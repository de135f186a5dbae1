//! Accent-free text for search: an officer on a cheap tablet often types "chieng le" for "Chiềng Lề".

/// Vietnamese letters with their diacritics, grouped under the base letter they fold to.
/// Lower case only; upper case goes through `char::to_lowercase` first and is restored after.
const GROUPS: &[(char, &str)] = &[
    ('a', "àáảãạăằắẳẵặâầấẩẫậ"),
    ('e', "èéẻẽẹêềếểễệ"),
    ('i', "ìíỉĩị"),
    ('o', "òóỏõọôồốổỗộơờớởỡợ"),
    ('u', "ùúủũụưừứửữự"),
    ('y', "ỳýỷỹỵ"),
    ('d', "đ"),
];

fn fold_lower(c: char) -> Option<char> {
    GROUPS
        .iter()
        .find(|(_, accented)| accented.contains(c))
        .map(|(base, _)| *base)
}

/// Removes Vietnamese diacritics, keeping case: "Chiềng Lề" → "Chieng Le", "Đông Sang" → "Dong Sang".
/// Combining marks (text typed in decomposed form) are dropped too.
pub fn fold_diacritics(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // U+0300..U+036F: combining diacritical marks, as left by decomposed input.
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        if c.is_ascii() {
            out.push(c);
            continue;
        }
        let lower = c.to_lowercase().next().unwrap_or(c);
        match fold_lower(lower) {
            Some(base) if lower != c => out.push(base.to_ascii_uppercase()),
            Some(base) => out.push(base),
            None => out.push(c),
        }
    }
    out
}

/// The key a name is searched by: folded, lower case, single spaces. Compare keys, never raw names.
pub fn search_key(text: &str) -> String {
    let folded = fold_diacritics(text).to_lowercase();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// True when every word of `query` starts a word of `name`'s key or appears inside it,
/// so "ch le" and "chieng le" both find "Chiềng Lề".
pub fn matches_query(name_key: &str, query: &str) -> bool {
    let query = search_key(query);
    query.split(' ').all(|word| name_key.contains(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_every_vietnamese_vowel_and_d() {
        assert_eq!(fold_diacritics("Chiềng Lề"), "Chieng Le");
        assert_eq!(fold_diacritics("Đông Sang"), "Dong Sang");
        assert_eq!(fold_diacritics("Mường Sại"), "Muong Sai");
        assert_eq!(fold_diacritics("ỲÝỶỸỴ"), "YYYYY");
        assert_eq!(search_key("  Thị   trấn  Ít Ong "), "thi tran it ong");
    }

    #[test]
    fn decomposed_input_folds_like_precomposed() {
        // "Lề" typed as L + e + U+0302 (circumflex) + U+0300 (grave)
        assert_eq!(search_key("Le\u{302}\u{300}"), "le");
    }

    #[test]
    fn query_words_must_all_match() {
        let key = search_key("Chiềng Lề");
        assert!(matches_query(&key, "chieng le"));
        assert!(matches_query(&key, "Lề"));
        assert!(!matches_query(&key, "chieng xom"));
    }
}
