// Once a lunch poll decided: why the place won (tie-breaks, quorum, early close) and how many are in. On the board it
// shows the count; on the vote page (given who is voting) it also offers "I'm in".
import type { Snapshot } from '@livevote/core/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type Who, whoQuery } from '../api.ts';
import { fetchHeadcount, setHeadcount } from './lunch-api.ts';
import { useLunchText } from './text.ts';

export function WinnerExtras({ snapshot, who }: { snapshot: Snapshot; who?: Who }) {
  const tx = useLunchText();
  const client = useQueryClient();
  const decided = snapshot.decision?.outcome === 'decided';
  const key = ['headcount', snapshot.poll_id, who ? whoQuery(who) : ''];
  const headcount = useQuery({
    queryKey: key,
    queryFn: () => fetchHeadcount(snapshot.poll_id, who ? whoQuery(who) : undefined),
    enabled: decided,
    refetchInterval: 5_000,
  });
  const join = useMutation({
    mutationFn: (inIt: boolean) => setHeadcount(snapshot.poll_id, whoQuery(who as Who), inIt),
    onSuccess: (data) => client.setQueryData(key, data),
  });
  if (!snapshot.decision) return null;
  const me = headcount.data?.me === true;
  return (
    <>
      <p className="winner-reason">{snapshot.decision.text}</p>
      {decided && headcount.data && (
        <p className="winner-headcount">{tx('inCount', { n: headcount.data.count })}</p>
      )}
      {decided && who && (
        <button type="button" aria-pressed={me} disabled={join.isPending} onClick={() => join.mutate(!me)}>
          {me ? tx('imOut') : tx('imIn')}
        </button>
      )}
    </>
  );
}
