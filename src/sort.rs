//! One sort for the whole crate (issue 8 item 9: the gadget's size). Every `slice::sort*` call
//! compiles its own copy of the standard library's driftsort/ipnsort for its element type and
//! comparator (about 3.5 KB of WebAssembly each; 19 stable and several unstable copies made
//! `core::slice::sort` 84 KB of the page module). These helpers sort a permutation of indices
//! with one shared, type-erased comparator (`sort_indices`, the only instantiation), then move
//! the elements into place: the same result as the standard stable sort (equal elements keep
//! their order), at the cost of one index vector. Use them instead of `sort*` outside tests.

use std::cmp::Ordering;

/// As `slice::sort_by` (stable).
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..v.len()).collect();
    {
        let v: &[T] = v;
        sort_indices(&mut order, &mut |a, b| cmp(&v[a], &v[b]));
    }
    permute(v, &mut order);
}

/// As `slice::sort_by_key` (stable).
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// As `slice::sort_by_cached_key` (stable; each key computed once).
pub fn sort_by_cached_key<T, K: Ord>(v: &mut [T], key: impl FnMut(&T) -> K) {
    if v.len() < 2 {
        return;
    }
    let keys: Vec<K> = v.iter().map(key).collect();
    let mut order: Vec<usize> = (0..v.len()).collect();
    sort_indices(&mut order, &mut |a, b| keys[a].cmp(&keys[b]));
    permute(v, &mut order);
}

/// As `slice::sort` (stable; also stands for `sort_unstable`, whose order of equal elements
/// is unspecified anyway).
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// The one instantiation of the standard sort: indices, compared through `cmp`.
#[inline(never)]
fn sort_indices(order: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
}

/// Rearranges `v` so that `v[i]` becomes the old `v[order[i]]`, in place (cycle by cycle;
/// `order` is left as the identity).
fn permute<T>(v: &mut [T], order: &mut [usize]) {
    for i in 0..order.len() {
        let mut j = i;
        loop {
            let k = order[j];
            order[j] = j;
            if k == i {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (no dependency).
    fn numbers(seed: u64, n: usize, modulo: u64) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (x >> 33) % modulo
            })
            .collect()
    }

    #[test]
    fn same_as_the_standard_stable_sort() {
        for (seed, n, modulo) in [
            (1, 0, 5),
            (2, 1, 5),
            (3, 2, 2),
            (4, 17, 3),
            (5, 100, 7),
            (6, 1000, 50),
            (7, 5000, 1 << 40),
        ] {
            let keys = numbers(seed, n, modulo);
            // (key, original position): equal keys must keep their order.
            let items: Vec<(u64, usize)> = keys.iter().copied().zip(0..).collect();
            let mut want = items.clone();
            want.sort_by_key(|p| p.0);
            let mut got = items.clone();
            sort_by_key(&mut got, |p| p.0);
            assert_eq!(got, want, "sort_by_key seed {seed}");
            let mut got = items.clone();
            sort_by(&mut got, |a, b| {
                (b.0 % 5).cmp(&(a.0 % 5)).then(a.0.cmp(&b.0))
            });
            let mut want_rev = items.clone();
            want_rev.sort_by(|a, b| (b.0 % 5).cmp(&(a.0 % 5)).then(a.0.cmp(&b.0)));
            assert_eq!(got, want_rev, "sort_by seed {seed}");
            let mut got = items.clone();
            sort_by_cached_key(&mut got, |p| p.0 % 3);
            let mut want_cached = items.clone();
            want_cached.sort_by_cached_key(|p| p.0 % 3);
            assert_eq!(got, want_cached, "sort_by_cached_key seed {seed}");
            let mut got = keys.clone();
            sort(&mut got);
            let mut want_plain = keys.clone();
            want_plain.sort();
            assert_eq!(got, want_plain, "sort seed {seed}");
        }
    }

    #[test]
    fn strings_and_floats() {
        let mut s = vec!["b".to_string(), "a".into(), "c".into(), "a".into()];
        sort(&mut s);
        assert_eq!(s, ["a", "a", "b", "c"]);
        let mut f = vec![2.5, -1.0, f64::NAN, 0.0, -0.0, 7.0];
        sort_by(&mut f, f64::total_cmp);
        let mut g = vec![2.5, -1.0, f64::NAN, 0.0, -0.0, 7.0];
        g.sort_by(f64::total_cmp);
        assert_eq!(format!("{f:?}"), format!("{g:?}"));
    }
}
