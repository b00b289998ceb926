extension Sequence {
    /// The elements grouped by `key`, groups in the order their first element came and each group in sequence order
    /// (a script's lines by room, a run's requests by room).
    package func groupedInOrder<Key: Hashable>(by key: (Element) throws -> Key) rethrows -> [[Element]] {
        var order: [Key] = []
        var groups: [Key: [Element]] = [:]
        for element in self {
            let k = try key(element)
            if groups[k] == nil { order.append(k) }
            groups[k, default: []].append(element)
        }
        return order.map { groups[$0] ?? [] }
    }
}
