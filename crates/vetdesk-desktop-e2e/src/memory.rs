//! Memory of a whole process tree, from `/proc`: WebKitGTK runs the page in
//! `WebKitWebProcess` and networking in `WebKitNetworkProcess`, children of the
//! app, and they count as much as the app itself.

use std::collections::HashMap;
use std::path::Path;

/// One process's memory, in KiB.
#[derive(Debug, Clone)]
pub struct ProcessMemory {
    pub pid: u32,
    pub name: String,
    /// Proportional set size: shared pages divided among the processes sharing them,
    /// so a tree's sum does not count a shared library twice.
    pub pss_kib: u64,
    pub rss_kib: u64,
}

/// Every process's parent, from `/proc/<pid>/stat`.
fn parents() -> HashMap<u32, u32> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // The name is in parentheses and may hold spaces: read after the last ')'.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
            out.insert(pid, ppid);
        }
    }
    out
}

/// `root` and all its descendants.
pub fn tree(root: u32) -> Vec<u32> {
    let parents = parents();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(parents.iter().filter(|(_, &pp)| pp == p).map(|(&c, _)| c));
        i += 1;
    }
    out
}

/// The descendant of `root` running the executable `exe`.
pub fn descendant_running(root: u32, exe: &Path) -> Option<u32> {
    tree(root)
        .into_iter()
        .find(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|p| p == exe))
}

fn field_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The memory of `root` and its descendants (those that exited meanwhile are left out).
pub fn tree_memory(root: u32) -> Vec<ProcessMemory> {
    tree(root)
        .into_iter()
        .filter_map(|pid| {
            let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some(ProcessMemory {
                pid,
                name: name.trim().to_owned(),
                pss_kib: field_kib(&rollup, "Pss:")?,
                rss_kib: field_kib(&rollup, "Rss:")?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_in_its_parents_tree_with_its_memory() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let me = std::process::id();
        let procs = tree_memory(me);
        let _ = child.kill();
        let _ = child.wait();
        let mine = procs.iter().find(|p| p.pid == me).expect("this process");
        assert!(
            mine.rss_kib > 0 && mine.pss_kib > 0 && mine.pss_kib <= mine.rss_kib,
            "{mine:?}"
        );
        let sleep = procs
            .iter()
            .find(|p| p.pid == child.id())
            .expect("the child");
        assert_eq!(sleep.name, "sleep");
        assert!(
            !tree(child.id()).contains(&me),
            "a child's tree does not hold its parent"
        );
    }

    #[test]
    fn kib_fields_are_read_from_smaps_rollup_text() {
        let text = "Rss:               10240 kB\nPss:                4096 kB\n";
        assert_eq!(field_kib(text, "Rss:"), Some(10240));
        assert_eq!(field_kib(text, "Pss:"), Some(4096));
        assert_eq!(field_kib(text, "Swap:"), None);
    }
}
