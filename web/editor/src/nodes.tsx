// The canvas's two node types: the $source node (the trigger event) and an action node.
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { ActionKind } from './api';
import { undeclaredInputs, type Action } from './model';

export type ActionNodeData = { action: Action; kind?: ActionKind; problems: string[] };
export type SourceNodeData = { trigger: string };
export type ActionNodeType = Node<ActionNodeData, 'action'>;
export type SourceNodeType = Node<SourceNodeData, 'source'>;
export type EditorNode = ActionNodeType | SourceNodeType;

export function SourceNode({ data }: NodeProps<SourceNodeType>) {
  return (
    <div className="wf-node wf-source" data-testid="node-$source">
      <div className="wf-node-kind">Trigger</div>
      <div className="wf-node-title">{data.trigger || 'no trigger set'}</div>
      <Handle type="source" position={Position.Bottom} id="out" data-testid="handle-$source-out" />
    </div>
  );
}

export function ActionNode({ data, selected }: NodeProps<ActionNodeType>) {
  const { action, kind, problems } = data;
  const unused = kind ? undeclaredInputs(action, kind) : [];
  const title = typeof action.name === 'string' && action.name ? action.name : kind?.name ?? action.kind;
  const cls = ['wf-node', 'wf-action', problems.length ? 'wf-invalid' : '', selected ? 'wf-selected' : '', kind ? '' : 'wf-unknown']
    .filter(Boolean)
    .join(' ');
  return (
    <div className={cls} data-testid={`node-${action.id}`} data-kind={action.kind}>
      <Handle type="target" position={Position.Top} id="in" data-testid={`handle-${action.id}-in`} />
      <div className="wf-node-kind">{action.kind}</div>
      <div className="wf-node-title">{title}</div>
      <div className="wf-node-id">{action.id}</div>
      {!kind && <div className="wf-node-problem">unknown action kind</div>}
      {problems.length > 0 && (
        // One line, whatever the number and length of the messages, so a node never grows over
        // the node below it; the side panel lists them in full (and the tooltip here).
        <div className="wf-node-problem" data-testid="node-problem" title={problems.join('\n')}>
          {problems.length > 1 && <span className="wf-node-problem-count">{problems.length}</span>}
          {problems[0]}
        </div>
      )}
      {problems.length === 0 && unused.length > 0 && (
        <div className="wf-node-warning" data-testid="node-warning" title={`Not inputs of ${kind?.name}: ${unused.join(', ')}`}>
          {unused.length === 1 ? `unused input “${unused[0]}”` : `${unused.length} unused inputs`}
        </div>
      )}
      <Handle type="source" position={Position.Bottom} id="out" data-testid={`handle-${action.id}-out`} />
    </div>
  );
}

export const nodeTypes = { action: ActionNode, source: SourceNode };
