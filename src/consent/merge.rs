//! Merging two copies of one user's consent list (issue 4/7 item 3): two tabs, or a tab and
//! the copy stored in the user's preferences, each added rules; neither may lose the other's.
//!
//! Rules are matched by identity (source, directives, scope — [`Rule::same_identity`]). When
//! both copies hold a rule with the same identity, the later `added` timestamp wins (ISO 8601
//! strings compare in time order; a rule without one is oldest); on a tie the local copy wins.
//! Mode and defaults are the local copy's: they are the writer's current choice.
//! Deleting a rule is not expressible this way (a deleted rule comes back from the other
//! copy); the panel therefore never deletes, it overrides (allow ↔ block).

use super::{ConsentList, Rule};

/// `local` merged with `remote`: remote's rules in their order (newer local decisions
/// replacing them), then the rules only `local` has.
pub fn merge(local: &ConsentList, remote: &ConsentList) -> ConsentList {
    let mut rules: Vec<Rule> = Vec::with_capacity(local.rules.len() + remote.rules.len());
    for theirs in &remote.rules {
        let winner = match local.rules.iter().find(|r| r.same_identity(theirs)) {
            Some(mine) if mine.added.as_deref() >= theirs.added.as_deref() => mine,
            _ => theirs,
        };
        rules.push(winner.clone());
    }
    for mine in &local.rules {
        if !rules.iter().any(|r| r.same_identity(mine)) {
            rules.push(mine.clone());
        }
    }
    ConsentList {
        version: local.version,
        mode: local.mode,
        defaults: local.defaults,
        rules,
    }
}

/// [`merge`] knowing `base`, the stored list `local` started from: mode and defaults are
/// `local`'s only where it changed them since `base`, else `remote`'s — so a page that only
/// added a rule does not revert a mode another tab or the options page set meanwhile.
pub fn merge_from(
    base: Option<&ConsentList>,
    local: &ConsentList,
    remote: &ConsentList,
) -> ConsentList {
    let mut merged = merge(local, remote);
    if let Some(base) = base {
        if local.mode == base.mode {
            merged.mode = remote.mode;
        }
        if local.defaults == base.defaults {
            merged.defaults = remote.defaults;
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(rules: &str) -> ConsentList {
        ConsentList::parse(&format!(r#"{{"version":1,"rules":[{rules}]}}"#)).expect("valid")
    }

    const A: &str = r#"{"source":"https://a.example","directives":["img-src"],"scope":"*","decision":"allow","added":"2026-11-29T10:00:00Z"}"#;
    const A_BLOCK_LATER: &str = r#"{"source":"https://a.example","directives":["img-src"],"scope":"*","decision":"block","added":"2026-11-29T11:00:00Z"}"#;
    const B: &str = r#"{"source":"https://b.example","directives":["connect-src"],"scope":"gadget:X","decision":"allow"}"#;

    #[test]
    fn two_tabs_keep_both_rules() {
        let merged = merge(&list(A), &list(B));
        let sources: Vec<&str> = merged.rules.iter().map(|r| r.source.as_str()).collect();
        assert_eq!(sources, vec!["https://b.example", "https://a.example"]);
    }

    #[test]
    fn later_decision_wins_per_rule_whichever_side_has_it() {
        let merged = merge(&list(A), &list(A_BLOCK_LATER));
        assert_eq!(merged.rules.len(), 1);
        assert_eq!(merged.rules[0].decision, crate::model::Verdict::Block);
        let merged = merge(&list(A_BLOCK_LATER), &list(A));
        assert_eq!(merged.rules[0].decision, crate::model::Verdict::Block);
    }

    #[test]
    fn unchanged_mode_does_not_revert_a_mode_set_elsewhere() {
        let base = list(A);
        let mut remote = list(A);
        remote.mode = crate::model::Mode::Block;
        let mut local = list(A);
        local.rules.extend(list(B).rules);
        let merged = merge_from(Some(&base), &local, &remote);
        assert_eq!(merged.mode, crate::model::Mode::Block);
        assert_eq!(merged.rules.len(), 2);
        // A mode this side changed wins.
        local.mode = crate::model::Mode::Ask;
        assert_eq!(
            merge_from(Some(&base), &local, &remote).mode,
            crate::model::Mode::Ask
        );
    }

    #[test]
    fn local_mode_and_defaults_win() {
        let mut local = list(A);
        local.mode = crate::model::Mode::Block;
        let merged = merge(&local, &list(B));
        assert_eq!(merged.mode, crate::model::Mode::Block);
    }
}
