using Mono.Cecil;
using Mono.Cecil.Cil;

namespace Portal.Tests.Core.Architecture;

/// <summary>
/// Which feature folder of an assembly uses which, read from the compiled assembly: base types, interfaces,
/// attributes, fields, properties, events, method signatures and the types, methods and fields that method bodies
/// name (lambdas, closures, async and iterator state machines count for the type that declares them, and so do the
/// members that expression trees name). A feature is the namespace segment after <c>Features.</c>; a type outside
/// the feature namespaces (Common, Data) is no feature. Constants (const fields, enum values) are copied into the
/// IL where they are used and leave no reference; every other use does.
/// </summary>
public sealed class FeatureGraph
{
    private readonly string _prefix;
    private readonly Dictionary<string, Dictionary<string, List<string>>> _edges = new(StringComparer.Ordinal);

    private IReadOnlySet<(string, string)> _tolerated = new HashSet<(string, string)>();

    private FeatureGraph(string prefix) => _prefix = prefix;

    /// <summary>Feature → the features it uses → a few of the uses that make the edge ("Type.Member uses Type").</summary>
    public IReadOnlyDictionary<string, Dictionary<string, List<string>>> Edges => _edges;

    public IEnumerable<string> Features => _edges.Keys.Concat(_edges.Values.SelectMany(e => e.Keys)).Distinct().Order(StringComparer.Ordinal);

    public bool Uses(string from, string to) => _edges.TryGetValue(from, out var targets) && targets.ContainsKey(to);

    /// <summary>Whether <paramref name="from"/> reaches <paramref name="to"/> through any uses, tolerated or not.</summary>
    public bool Reaches(string from, string to)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal) { from };
        var queue = new Queue<string>([from]);
        while (queue.TryDequeue(out var at))
            foreach (var next in _edges.GetValueOrDefault(at)?.Keys ?? Enumerable.Empty<string>())
            {
                if (next == to) return true;
                if (seen.Add(next)) queue.Enqueue(next);
            }
        return false;
    }

    public static FeatureGraph Read(string assemblyPath, string featureNamespace)
    {
        var graph = new FeatureGraph(featureNamespace + ".");
        using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath);
        foreach (var type in assembly.MainModule.GetTypes())
        {
            if (graph.FeatureOf(type) is not { } feature) continue;
            var scan = new Scan(graph, feature, type);
            scan.Type(type.BaseType, "base type");
            foreach (var i in type.Interfaces) scan.Type(i.InterfaceType, "interface");
            scan.Attributes(type, "attribute");
            scan.GenericParameters(type);
            foreach (var f in type.Fields)
            {
                scan.Type(f.FieldType, MemberName(type, f.Name));
                scan.Attributes(f, MemberName(type, f.Name));
            }
            foreach (var p in type.Properties)
            {
                scan.Type(p.PropertyType, p.Name);
                scan.Attributes(p, p.Name);
            }
            foreach (var e in type.Events) scan.Type(e.EventType, e.Name);
            foreach (var m in type.Methods) scan.Method(m);
        }
        return graph;
    }

    /// <summary>
    /// The cycles between features, leaving out the <paramref name="tolerated"/> edges: for each group of features
    /// that reach each other, one shortest way round through every member of the group, written as "A → B → A" with
    /// the uses that make each step.
    /// </summary>
    public IReadOnlyList<string> Cycles(IReadOnlySet<(string From, string To)>? tolerated = null)
    {
        _tolerated = tolerated ?? new HashSet<(string, string)>();
        var found = new List<string>();
        foreach (var group in StronglyConnected().Where(g => g.Count > 1))
        {
            var members = group.ToHashSet(StringComparer.Ordinal);
            var steps = new List<string>();
            var walk = new List<string> { group[0] };
            // Visit every member: the shortest path inside the group to the next one not yet on the walk, then home.
            var pending = new HashSet<string>(group.Skip(1), StringComparer.Ordinal);
            while (true)
            {
                var from = walk[^1];
                var path = pending.Count > 0 ? ShortestPath(from, pending, members) : ShortestPath(from, new HashSet<string>(StringComparer.Ordinal) { group[0] }, members);
                for (var i = 1; i < path.Count; i++)
                {
                    walk.Add(path[i]);
                    pending.Remove(path[i]);
                }
                if (walk[^1] == group[0] && pending.Count == 0) break;
            }
            for (var i = 1; i < walk.Count; i++)
                steps.Add($"  {walk[i - 1]} → {walk[i]}: {string.Join("; ", _edges[walk[i - 1]][walk[i]].Take(3))}");
            found.Add(string.Join(" → ", walk) + Environment.NewLine + string.Join(Environment.NewLine, steps));
        }
        return found;
    }

    private List<string> ShortestPath(string from, IReadOnlySet<string> targets, IReadOnlySet<string> within)
    {
        var previous = new Dictionary<string, string>(StringComparer.Ordinal);
        var queue = new Queue<string>([from]);
        var seen = new HashSet<string>(StringComparer.Ordinal) { from };
        while (queue.TryDequeue(out var at))
        {
            foreach (var next in Next(at).Order(StringComparer.Ordinal))
            {
                if (!within.Contains(next)) continue;
                if (targets.Contains(next))
                {
                    var path = new List<string> { next, at };
                    while (previous.TryGetValue(path[^1], out var back)) path.Add(back);
                    path.Reverse();
                    return path;
                }
                if (seen.Add(next))
                {
                    previous[next] = at;
                    queue.Enqueue(next);
                }
            }
        }
        throw new InvalidOperationException($"No way from {from} to {string.Join(", ", targets)} inside its own group.");
    }

    /// <summary>Tarjan's strongly connected components, each sorted, in name order.</summary>
    private List<List<string>> StronglyConnected()
    {
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var low = new Dictionary<string, int>(StringComparer.Ordinal);
        var stack = new Stack<string>();
        var onStack = new HashSet<string>(StringComparer.Ordinal);
        var groups = new List<List<string>>();

        void Visit(string v)
        {
            index[v] = low[v] = index.Count;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in Next(v))
            {
                if (!index.ContainsKey(w))
                {
                    Visit(w);
                    low[v] = Math.Min(low[v], low[w]);
                }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var group = new List<string>();
            string popped;
            do
            {
                popped = stack.Pop();
                onStack.Remove(popped);
                group.Add(popped);
            } while (popped != v);
            group.Sort(StringComparer.Ordinal);
            groups.Add(group);
        }

        foreach (var feature in Features) if (!index.ContainsKey(feature)) Visit(feature);
        return [.. groups.OrderBy(g => g[0], StringComparer.Ordinal)];
    }

    /// <summary>
    /// A member as written in the source: "&lt;ListAsync&gt;d__3.MoveNext" (a state machine) and
    /// "&lt;&gt;c.&lt;Visible&gt;b__0" (a lambda) read as "ListAsync" and "Visible", "&lt;keyCache&gt;P" (a captured primary
    /// constructor parameter) as "keyCache".
    /// </summary>
    private static string MemberName(TypeDefinition owner, string name)
    {
        for (var type = owner; type.DeclaringType is not null && type.Name.StartsWith('<'); type = type.DeclaringType)
            if (Inside(type.Name) is { } method) return method;
        return Inside(name) ?? name;
    }

    // "<<Find>g__Local|5_0>d" → "Find"; "<>c" → null.
    private static string? Inside(string name)
    {
        var text = name.TrimStart('<');
        var end = text.IndexOf('>');
        return end > 0 && name.StartsWith('<') ? text[..end] : null;
    }

    private IEnumerable<string> Next(string from) =>
        (_edges.GetValueOrDefault(from)?.Keys ?? Enumerable.Empty<string>()).Where(to => !_tolerated.Contains((from, to)));

    private string? FeatureOf(TypeReference type)
    {
        while (type.DeclaringType is { } outer) type = outer;
        if (!type.Namespace.StartsWith(_prefix, StringComparison.Ordinal)) return null;
        var rest = type.Namespace[_prefix.Length..];
        var dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }

    private static string Name(TypeReference type)
    {
        while (type is TypeSpecification spec) type = spec.ElementType;
        var name = type.Name;
        var tick = name.IndexOf('`');
        if (tick >= 0) name = name[..tick];
        // A lambda's closure or a state machine reads as the type that declares it.
        return type.DeclaringType is { } outer && name.StartsWith('<') ? Name(outer) : type.DeclaringType is { } o ? $"{Name(o)}.{name}" : name;
    }

    private void Add(string from, TypeReference fromType, string member, TypeReference used)
    {
        if (FeatureOf(used) is not { } to || to == from) return;
        if (!_edges.TryGetValue(from, out var targets)) _edges[from] = targets = new(StringComparer.Ordinal);
        if (!targets.TryGetValue(to, out var uses)) targets[to] = uses = [];
        var use = $"{Name(fromType)}.{member} uses {Name(used)}";
        if (uses.Count < 5 && !uses.Contains(use)) uses.Add(use);
    }

    private sealed class Scan(FeatureGraph graph, string feature, TypeDefinition owner)
    {
        public void Type(TypeReference? type, string member)
        {
            switch (type)
            {
                case null or GenericParameter:
                    return;
                case GenericInstanceType generic:
                    Type(generic.ElementType, member);
                    foreach (var argument in generic.GenericArguments) Type(argument, member);
                    return;
                case FunctionPointerType pointer:
                    Type(pointer.ReturnType, member);
                    foreach (var p in pointer.Parameters) Type(p.ParameterType, member);
                    return;
                case TypeSpecification spec:
                    Type(spec.ElementType, member);
                    return;
                default:
                    graph.Add(feature, owner, member, type);
                    return;
            }
        }

        public void Attributes(ICustomAttributeProvider provider, string member)
        {
            foreach (var attribute in provider.CustomAttributes)
            {
                Type(attribute.AttributeType, member);
                foreach (var argument in attribute.ConstructorArguments.Concat(attribute.Properties.Select(p => p.Argument)).Concat(attribute.Fields.Select(f => f.Argument)))
                    if (argument.Value is TypeReference typeOf) Type(typeOf, member);
            }
        }

        public void GenericParameters(IGenericParameterProvider provider)
        {
            foreach (var parameter in provider.GenericParameters)
                foreach (var constraint in parameter.Constraints) Type(constraint.ConstraintType, "constraint");
        }

        public void Method(MethodDefinition method)
        {
            var member = MemberName(method.DeclaringType, method.Name);
            Type(method.ReturnType, member);
            Attributes(method, member);
            GenericParameters(method);
            foreach (var p in method.Parameters)
            {
                Type(p.ParameterType, member);
                Attributes(p, member);
            }
            if (!method.HasBody) return;
            foreach (var local in method.Body.Variables) Type(local.VariableType, member);
            foreach (var instruction in method.Body.Instructions)
            {
                switch (instruction.Operand)
                {
                    case TypeReference type:
                        Type(type, member);
                        break;
                    case MethodReference called:
                        Type(called.DeclaringType, member);
                        Type(called.ReturnType, member);
                        foreach (var p in called.Parameters) Type(p.ParameterType, member);
                        if (called is GenericInstanceMethod generic)
                            foreach (var argument in generic.GenericArguments) Type(argument, member);
                        break;
                    case FieldReference field:
                        Type(field.DeclaringType, member);
                        Type(field.FieldType, member);
                        break;
                }
            }
        }

    }
}
