#include "http/registry.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace camstream {
namespace {

struct Member {
  int id = 0;
  std::vector<int>* seen = nullptr;
  std::function<void(Member&)> on_visit;
  Registry<Member>::Membership membership;
};

using MemberPtr = std::shared_ptr<Member>;

MemberPtr join(Registry<Member>& registry, int id, std::vector<int>& seen) {
  auto member = std::make_shared<Member>();
  member->id = id;
  member->seen = &seen;
  member->membership = registry.join(member);
  return member;
}

void walk(Registry<Member>& registry) {
  registry.for_each([](Member& member) {
    member.seen->push_back(member.id);
    if (member.on_visit) member.on_visit(member);
  });
}

TEST(Registry, LeavingWhileWalkedNeverDisturbsTheWalk) {
  auto registry = Registry<Member>::create();
  std::vector<int> seen;
  std::vector<MemberPtr> members;
  for (int i = 0; i < 10; ++i) members.push_back(join(*registry, i, seen));
  // Member 2 makes itself, the member before and three after it leave, and walks again.
  members[2]->on_visit = [&](Member& self) {
    self.membership.reset();
    members[1]->membership.reset();
    for (int i = 3; i < 6; ++i) members[i]->membership.reset();
    self.on_visit = nullptr;
    walk(*registry);
  };
  walk(*registry);
  // Outer walk: 0 1 2, inner walk: 0 6 7 8 9, then the outer one goes on at 6.
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 0, 6, 7, 8, 9, 6, 7, 8, 9}));
  EXPECT_EQ(registry->size(), 5u);
  seen.clear();
  walk(*registry);
  EXPECT_EQ(seen, (std::vector<int>{0, 6, 7, 8, 9}));
}

TEST(Registry, MembersJoiningDuringAWalkWaitForTheNext) {
  auto registry = Registry<Member>::create();
  std::vector<int> seen;
  std::vector<MemberPtr> members{join(*registry, 0, seen)};
  members[0]->on_visit = [&](Member&) {
    for (int i = 1; i < 100; ++i) members.push_back(join(*registry, i, seen));  // reallocates
  };
  walk(*registry);
  EXPECT_EQ(seen, (std::vector<int>{0}));
  EXPECT_EQ(registry->size(), 100u);
  members[0]->on_visit = nullptr;
  seen.clear();
  walk(*registry);
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Registry, AWalkFromAnywhereVisitsEveryMemberOnceInTurn) {
  auto registry = Registry<Member>::create();
  std::vector<int> seen;
  std::vector<MemberPtr> members;
  const auto walk_from = [&](std::size_t first) {
    seen.clear();
    registry->for_each_from(first, [](Member& member) {
      member.seen->push_back(member.id);
      if (member.on_visit) member.on_visit(member);
    });
  };
  walk_from(3);  // nobody yet
  EXPECT_TRUE(seen.empty());
  for (int i = 0; i < 5; ++i) members.push_back(join(*registry, i, seen));
  walk_from(0);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  walk_from(7);  // modulo 5: from the third
  EXPECT_EQ(seen, (std::vector<int>{2, 3, 4, 0, 1}));
  walk_from(static_cast<std::size_t>(-1));  // the largest start: 2^64 - 1 is 0 modulo 5
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  // Member 3 makes member 0 leave (not yet visited: wrapped round) and a new one join.
  members[3]->on_visit = [&](Member& self) {
    members[0]->membership.reset();
    members.push_back(join(*registry, 5, seen));
    self.on_visit = nullptr;
  };
  walk_from(2);
  EXPECT_EQ(seen, (std::vector<int>{2, 3, 4, 1}));
  walk_from(4);
  EXPECT_EQ(seen, (std::vector<int>{5, 1, 2, 3, 4}));
}

TEST(Registry, AMemberDestroyedDuringAWalkIsSkipped) {
  auto registry = Registry<Member>::create();
  std::vector<int> seen;
  std::vector<MemberPtr> members;
  for (int i = 0; i < 3; ++i) members.push_back(join(*registry, i, seen));
  members[0]->on_visit = [&](Member&) { members[1].reset(); };
  walk(*registry);
  EXPECT_EQ(seen, (std::vector<int>{0, 2}));
  EXPECT_EQ(registry->size(), 2u);
}

TEST(Registry, ARegistryHoldsNoMemberAlive) {
  auto registry = Registry<Member>::create();
  std::vector<int> seen;
  std::weak_ptr<Member> weak;
  {
    auto member = join(*registry, 0, seen);
    weak = member;
  }
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(registry->size(), 0u);
}

TEST(Registry, AMembershipMayOutliveItsRegistry) {
  std::vector<int> seen;
  auto registry = Registry<Member>::create();
  auto member = join(*registry, 0, seen);
  registry.reset();
  member->membership.reset();  // no registry to leave: nothing happens
  EXPECT_FALSE(member->membership);
}

}  // namespace
}  // namespace camstream
