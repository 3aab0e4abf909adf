// On the board's winner screen: why the place won (tie-breaks, quorum, early close) and how many are in.
import type { Snapshot } from '@livevote/core/protocol';
import { useQuery } from '@tanstack/react-query';
import { fetchHeadcount } from './lunch-api.ts';
import { useLunchText } from './text.ts';

export function WinnerExtras({ snapshot }: { snapshot: Snapshot }) {
  const tx = useLunchText();
  const decided = snapshot.decision?.outcome === 'decided';
  const headcount = useQuery({
    queryKey: ['headcount', snapshot.poll_id],
    queryFn: () => fetchHeadcount(snapshot.poll_id),
    enabled: decided,
    refetchInterval: 5_000,
  });
  if (!snapshot.decision) return null;
  return (
    <>
      <p className="winner-reason">{snapshot.decision.text}</p>
      {decided && headcount.data && (
        <p className="winner-headcount">{tx('inCount', { n: headcount.data.count })}</p>
      )}
    </>
  );
}
