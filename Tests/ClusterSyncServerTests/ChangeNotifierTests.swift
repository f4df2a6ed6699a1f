import ClusterSyncCore
import ClusterSyncServer
import Synchronization
import Testing

/// Whom a push wakes: the subscriptions of its clusters and those that read every cluster.
@Suite struct ChangeNotifierTests {
    /// Wake-ups received, by subscription name.
    final class Woken: Sendable {
        private let names = Mutex<[String]>([])
        func wake(_ name: String) -> ChangeNotifier.Wake { { _ in self.names.withLock { $0.append(name) } } }
        func take() -> Set<String> { names.withLock { names in defer { names = [] }; return Set(names) } }
    }

    @Test func aPushWakesItsClustersSessionsAndThoseReadingEveryCluster() async {
        let notifier = ChangeNotifier()
        let woken = Woken()
        let practice = SessionIdentity(tenant: "bcuhb", cluster: "north", practice: "W94010", author: "W94010")
        let pcpg = SessionIdentity.oversight(tenant: "bcuhb", role: .pcpg, region: "conwy", author: "Conwy PCPG")
        #expect(practice.wokenByCluster == "north" && pcpg.wokenByCluster == nil)
        _ = await notifier.subscribe(tenant: "bcuhb", cluster: practice.wokenByCluster, wake: woken.wake("north"))
        let south = await notifier.subscribe(tenant: "bcuhb", cluster: "south", wake: woken.wake("south"))
        _ = await notifier.subscribe(tenant: "bcuhb", cluster: pcpg.wokenByCluster, wake: woken.wake("pcpg"))
        _ = await notifier.subscribe(tenant: "ctmuhb", cluster: "north", wake: woken.wake("other tenant"))

        await notifier.notify(tenant: "bcuhb", clusters: ["north"])
        #expect(woken.take() == ["north", "pcpg"])
        await notifier.notify(tenant: "bcuhb", clusters: ["south", "east"])
        #expect(woken.take() == ["south", "pcpg"])
        // Clusters not known (another node's push): everyone of the tenant.
        await notifier.notify(tenant: "bcuhb")
        #expect(woken.take() == ["north", "south", "pcpg"])
        await notifier.notifyAll()
        #expect(woken.take() == ["north", "south", "pcpg", "other tenant"])
        // Every push counts in the tenant's generation, whoever it woke.
        #expect(notifier.generation(of: "bcuhb") == 4)

        #expect(await notifier.unsubscribe(tenant: "bcuhb", id: south.id) == false)
        await notifier.notify(tenant: "bcuhb", clusters: ["south"])
        #expect(woken.take() == ["pcpg"])
    }
}
