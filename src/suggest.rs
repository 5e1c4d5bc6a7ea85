//! "Did you mean …?": the closest of a few known words to a misspelled one. Used by the loader
//! for keys and by resolve for fixed values (`os`, `database`, `runtime`…).

/// The candidate closest to `word`, if one is close enough to be a likely typo. Ties go to the
/// first candidate, so the answer does not depend on anything but the inputs' order.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(&str, f64)> = None;
    for candidate in candidates {
        // Jaro-Winkler favours a shared prefix (`domain`/`domains`, `debian12`/`debian-12`);
        // 0.8 is about where a human would still call it the same word.
        let score = strsim::jaro_winkler(&lower, &candidate.to_lowercase());
        if score >= 0.8 && best.is_none_or(|(_, b)| score > b) {
            best = Some((candidate, score));
        }
    }
    best.map(|(candidate, _)| candidate)
}

/// `; did you mean `x`?` or nothing, to append to a help text.
pub fn hint<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    did_you_mean(word, candidates).map_or_else(String::new, |c| format!("did you mean `{c}`? "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_words_are_suggested_and_far_ones_are_not() {
        let keys = ["domains", "slot", "database"];
        assert_eq!(did_you_mean("domain", keys), Some("domains"));
        assert_eq!(did_you_mean("databse", keys), Some("database"));
        assert_eq!(did_you_mean("Slot", keys), Some("slot"));
        assert_eq!(did_you_mean("colour", keys), None);
        assert_eq!(
            did_you_mean("debian12", ["debian-12", "ubuntu-24.04"]),
            Some("debian-12")
        );
    }
}
