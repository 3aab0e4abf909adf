import { describe, expect, it } from 'vitest';
import { route } from './App.tsx';

describe('routes', () => {
  it('maps paths to pages', () => {
    expect(route('/board/lunch-demo')).toEqual({ page: 'board', pollId: 'lunch-demo' });
    expect(route('/p/abc/')).toEqual({ page: 'vote', pollId: 'abc' });
    expect(route('/admin')).toEqual({ page: 'admin' });
    expect(route('/admin/places')).toEqual({ page: 'places' });
    expect(route('/history/')).toEqual({ page: 'history' });
    expect(route('/')).toEqual({ page: 'home' });
    expect(route('/board/bad id')).toEqual({ page: 'home' });
    expect(route('/nope')).toEqual({ page: 'home' });
  });
});
